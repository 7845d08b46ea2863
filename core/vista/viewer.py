"""`vista view RUN_DIR`: browse a run's trajectories in a local web page (served on 127.0.0.1 only).

RUN_DIR is an evaluation's run directory or any folder above several (a `vista-train` run holds one per policy
under ``eval/``): every trajectory log below it is listed, each row naming its run. Filter by run, task,
correctness, primary error class and tool; sort by order, id, reward or error; each trajectory shows its images,
the thinking, every tool call with its arguments, validation result and output (images included) once, the answer,
the ground truth and the reward components; the system prompt is folded.

An episode's address is ``/#run=<the run directory's absolute path>&episode=<trajectory id>``
(`episode_address`): the same episode whichever folder the viewer was started on, so the HTML report links there
and a row's address can be shared (a run moved elsewhere is still found by its episode ids). A run that is not
below the viewer's folder is said so on the page, with the command that shows it. The page is one HTML file with a little JavaScript; the data comes from three JSON/PNG
routes: ``/api/summary``, ``/api/trajectory/<index>`` and ``/images/<run>/<sha256>.png``.
"""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from .errors import VistaError
from .trajectory import Trajectory
from .trajectory_log import TrajectoryLog

_IMAGE_ROUTE = re.compile(r"^/images/([0-9]+)/([0-9a-f]{64})\.png$")
_TRAJECTORY_ROUTE = re.compile(r"^/api/trajectory/([0-9]+)$")

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>vista view</title><style>
body{font-family:sans-serif;margin:0;display:flex;height:100vh}
#list{width:360px;overflow:auto;border-right:1px solid #ccc}#detail{flex:1;overflow:auto;padding:1em}
#filters{padding:.5em;background:#f3f3f3;position:sticky;top:0}#filters select{width:100%;margin:2px 0}
.row{padding:.4em .6em;border-bottom:1px solid #eee;cursor:pointer}.row:hover{background:#eef}.row.sel{background:#dde}
.ok{color:#070}.bad{color:#b00}.msg{border:1px solid #ddd;border-radius:6px;margin:.5em 0;padding:.5em}
.role{font-weight:bold;font-size:.8em;color:#555}img{max-width:420px;border:1px solid #ccc;display:block;margin:.3em 0}
pre{white-space:pre-wrap;background:#f8f8f8;padding:.4em}.call{background:#fffbe6;padding:.3em;margin:.3em 0}
summary{cursor:pointer;color:#555}
</style></head><body><div id="list"><div id="filters">
<select id="f-run"><option value="">all runs</option></select>
<select id="f-task"><option value="">all tasks</option></select>
<select id="f-correct"><option value="">correct and wrong</option><option value="true">correct</option>
<option value="false">wrong</option></select>
<select id="f-error"><option value="">any primary error</option></select>
<select id="f-tool"><option value="">any tool</option></select>
<select id="sort"><option value="index">sort: as logged</option><option value="id">sort: example id</option>
<option value="reward-">sort: reward, lowest first</option><option value="reward+">sort: reward, highest first</option>
<option value="error">sort: primary error</option></select><div id="count"></div></div>
<div id="rows"></div></div><div id="detail">Pick a trajectory.</div><script>
let all=[];const ROOT=__ROOT__;const $=id=>document.getElementById(id);
const esc=s=>String(s??"").replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
function fill(id,values){const el=$(id);[...new Set(values)].sort().forEach(v=>{const o=document.createElement("option");
o.value=v;o.textContent=v;el.appendChild(o)});el.onchange=render}
const byId=(a,b)=>(a.run+"/"+a.task+"/"+a.example_id).localeCompare(b.run+"/"+b.task+"/"+b.example_id,undefined,
{numeric:true});
const SORTS={index:(a,b)=>a.index-b.index,id:byId,"reward-":(a,b)=>(a.reward??0)-(b.reward??0)||byId(a,b),
"reward+":(a,b)=>(b.reward??0)-(a.reward??0)||byId(a,b),error:(a,b)=>String(a.primary_error||"~").localeCompare(
String(b.primary_error||"~"))||byId(a,b)};
function render(){const run=$("f-run").value,t=$("f-task").value,c=$("f-correct").value,e=$("f-error").value,
tool=$("f-tool").value;const rows=all.filter(r=>(!run||r.run===run)&&(!t||r.task===t)&&(!c||String(r.correct)===c)
&&(!e||r.primary_error===e)&&(!tool||r.tools.includes(tool))).sort(SORTS[$("sort").value]);
$("count").textContent=rows.length+" of "+all.length+" trajectories";
$("rows").innerHTML=rows.map(r=>`<div class="row" data-i="${r.index}" data-address="${esc(address(r))}"><span class="${r.correct?"ok":"bad"}">
${r.correct?"✓":"✗"}</span> ${esc(r.task)} / ${esc(r.example_id)}${r.run?` <small>(${esc(r.run)})</small>`:""}<br>
<small>reward ${r.reward} · ${esc(r.primary_error||"no error")} · ${esc(r.tools.join(", ")||"no tools")}</small></div>`
).join("");document.querySelectorAll(".row").forEach(el=>el.onclick=()=>{location.hash=el.dataset.address})}
const address=r=>"run="+encodeURIComponent(r.path)+"&episode="+encodeURIComponent(r.id);
function locate(hash){const q=new URLSearchParams(hash),run=q.get("run")||"",id=q.get("episode");
const same=all.filter(r=>r.id===id);const hit=same.find(r=>r.path===run)||same[0];if(hit)return show(hit.index);
$("detail").innerHTML=`<p class="bad" id="missing">Episode ${esc(id)} of the run ${esc(run)} is not under the folder
 this viewer shows (${esc(ROOT)}): start <code>vista view ${esc(run)}</code> to see it.</p>`}
function part(p,run){return p.type==="image"?`<img src="/images/${run}/${p.image}.png">`:`<pre>${esc(p.text)}</pre>`}
async function show(i){const t=await (await fetch("/api/trajectory/"+i)).json();const run=t.run_index;
document.querySelectorAll(".row").forEach(el=>el.classList.toggle("sel",el.dataset.i===String(i)));
let h=`<h2>${esc(t.task)} / ${esc(t.example_id)}</h2><p>answer <b class="answer">${esc(t.final_answer)}</b> · ground
 truth <b>${esc(JSON.stringify(t.ground_truth))}</b> · <span class="${t.correct?"ok":"bad"}">${t.correct?"correct":
"wrong"}</span> · reward ${t.reward} (${Object.entries(t.reward_components).map(([k,v])=>k+" "+v).join(", ")}) ·
 primary error ${esc(t.primary_error||"none")}</p>`;let s=0,shown=new Set();
for(const m of t.messages){if(m.role==="system"){h+=`<details class="msg"><summary>system prompt</summary>${
m.content.map(p=>part(p,run)).join("")}</details>`;continue}
h+=`<div class="msg"><div class="role">${esc(m.role)}</div>`;
for(const p of m.content){if(m.role==="tool"&&((p.type==="text"&&p.text.startsWith("<tool_response>"))||
(p.type==="image"&&shown.has(p.image))))continue;h+=part(p,run)}
if(m.role==="assistant"){const st=t.steps[s++];if(st)for(const c of st.tool_calls){h+=`<div class="call"><b>tool
 call</b> ${esc(c.name||"(unparsed)")} <code>${esc(JSON.stringify(c.arguments))}</code> · ${c.valid?"valid":"invalid"}
${c.error?` · <span class="bad">${esc(c.error.error_class)}: ${esc(c.error.message)}</span>`:""}
${c.output_text!=null?`<pre>${esc(c.output_text)}</pre>`:""}${c.output_images.map(x=>{shown.add(x);
return `<img src="/images/${run}/${x}.png">`}).join("")}</div>`}}h+="</div>"}$("detail").innerHTML=h}
window.onhashchange=()=>{if(location.hash.length>1)locate(location.hash.slice(1))};
fetch("/api/summary").then(r=>r.json()).then(rows=>{all=rows;fill("f-run",rows.map(r=>r.run).filter(Boolean));
fill("f-task",rows.map(r=>r.task));fill("f-error",rows.map(r=>r.primary_error).filter(Boolean));
fill("f-tool",rows.flatMap(r=>r.tools));$("f-correct").onchange=render;$("sort").onchange=render;render();
if(location.hash.length>1)locate(location.hash.slice(1))});
</script></body></html>"""


def episode_address(run_dir: str | Path, trajectory_id: str, base: str = "http://127.0.0.1:8765/") -> str:
    """The viewer's address of one episode: by its run directory (absolute) and trajectory id, never by position,
    so it opens that episode whichever folder above the run `vista view` was started on."""
    return f"{base}#run={quote(str(Path(run_dir).resolve()), safe='')}&episode={quote(trajectory_id, safe='')}"


def _summary(index: int, run: str, path: str, t: Trajectory) -> dict:
    return {"index": index, "id": t.id, "run": run, "path": path, "task": t.task, "example_id": t.example_id,
            "correct": bool(t.correct), "reward": t.reward,
            "primary_error": t.primary_error.value if t.primary_error else None,
            "tools": sorted({c.name for c in t.tool_calls if c.name})}


def find_logs(root: str | Path) -> list[Path]:
    """Every directory at or below ``root`` that holds a trajectory log, in path order."""
    root = Path(root)
    if not root.is_dir():
        raise VistaError(f"'{root}' is not a directory; give a run directory (`vista eval --run-dir`) or a "
                         "folder above several")
    logs = sorted({p.parent for p in root.rglob("trajectories.jsonl")})
    if not logs:
        raise VistaError(f"no trajectories under '{root}' (no trajectories.jsonl in it or below); `vista eval "
                         "--run-dir DIR` and `vista-train` (in <run_dir>/eval/*) write them")
    return logs


def load_runs(root: str | Path) -> list[tuple[str, TrajectoryLog, list[Trajectory]]]:
    """(name relative to ``root``, log, trajectories) of every trajectory log below ``root``."""
    root = Path(root)
    runs = []
    for directory in find_logs(root):
        log = TrajectoryLog(directory)
        name = "" if directory == root else directory.relative_to(root).as_posix()
        runs.append((name, log, list(log.read())))
    return runs


def make_server(run_dir: str | Path, port: int = 8765, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    runs = load_runs(run_dir)
    entries = [(r, t) for r, (_, _, trajectories) in enumerate(runs) for t in trajectories]
    labelled = len(runs) > 1 or runs[0][0] != ""
    paths = [str(log.run_dir.resolve()) for _, log, _ in runs]
    page = PAGE.replace("__ROOT__", json.dumps(str(Path(run_dir).resolve())).replace("</", "<\\/")).encode()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            path = self.path.split("?")[0]
            if path == "/":
                return self._send(200, page, "text/html; charset=utf-8")
            if path == "/api/summary":
                rows = [_summary(i, runs[r][0] if labelled else "", paths[r], t) for i, (r, t) in enumerate(entries)]
                return self._send(200, json.dumps(rows).encode(), "application/json")
            match = _TRAJECTORY_ROUTE.match(path)
            if match and int(match.group(1)) < len(entries):
                r, trajectory = entries[int(match.group(1))]
                body = {**trajectory.model_dump(mode="json"), "run_index": r}
                return self._send(200, json.dumps(body).encode(), "application/json")
            match = _IMAGE_ROUTE.match(path)
            if match and int(match.group(1)) < len(runs):
                image = runs[int(match.group(1))][1].images.path(match.group(2))
                if image.exists():
                    return self._send(200, image.read_bytes(), "image/png")
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

        def log_message(self, *args) -> None:
            pass

    try:
        return ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise VistaError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another with --port, "
                         "or --port 0 for any free one") from None


def serve_in_background(run_dir: str | Path, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    server = make_server(run_dir, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
