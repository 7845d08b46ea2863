"""Reports of evaluation results: a paper-style Markdown table, the error-attribution and tool-usage tables, a
self-contained HTML page (the same tables as HTML, inline SVG plots of accuracy, errors, tool use and latency, and
every episode linked to `vista view`), and a side-by-side comparison of runs."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from .attribution import attribution_markdown
from .evaluation import detect_tool_collapse


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def paper_table(runs: Sequence[tuple[str, dict]]) -> str:
    """One row per run; columns: in-distribution tasks, their average, out-of-distribution tasks, their average,
    overall (accuracy in %), as the paper lays it out."""
    tasks = sorted({t for _, r in runs for t in r["per_task"]})
    dist = {t: next(r["per_task"][t]["distribution"] for _, r in runs if t in r["per_task"]) for t in tasks}
    ind = [t for t in tasks if dist[t] != "ood"]
    ood = [t for t in tasks if dist[t] == "ood"]
    header = ["run", *ind, "ID avg", *ood, "OOD avg", "overall"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" + "---:|" * (len(header) - 1)]
    for name, results in runs:
        def cell(task: str, per_task: dict = results["per_task"]) -> str:
            return _pct(per_task[task]["accuracy"]) if task in per_task else "–"

        avg = results["averages"]
        lines.append("| " + " | ".join([name, *map(cell, ind), _pct(avg["in_distribution"]), *map(cell, ood),
                                        _pct(avg["out_of_distribution"]), _pct(avg["overall"])]) + " |")
    return "\n".join(lines)


def latency_note(results: dict) -> str:
    config, host = results.get("config", {}), results.get("host", {})
    if "concurrency" not in config:
        return ""
    cores = f" on {host['cpu_cores']} CPU cores" if host.get("cpu_cores") else ""
    return (f"Latencies are per call as the episodes saw them, with {config['concurrency']} episodes in flight{cores}: "
            "they include waiting for a free worker (`--concurrency` sets it).")


def tools_markdown(tools: dict, note: str = "") -> str:
    lines = [f"Tool calls: {tools['calls']} ({tools['calls_per_episode']:.2f} per episode; "
             f"{_pct(tools['episodes_with_tools'])}% of episodes use a tool)", *([note] if note else []), "",
             "| tool | calls | share | p50 s | p95 s | failure rate | failures by class |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for name, row in tools["per_tool"].items():
        lines.append(f"| {name} | {row['calls']} | {_pct(row['share'])}% | {row['latency_p50_s']:.3f} | "
                     f"{row['latency_p95_s']:.3f} | {_pct(row['failure_rate'])}% | "
                     f"{', '.join(f'{k}: {v}' for k, v in row['failures_by_class'].items()) or '–'} |")
    return "\n".join(lines)


def markdown(results: dict, name: str = "run") -> str:
    per_task = ["| task | category | split | n | accuracy % | format % | tool calls / episode |",
                "|---|---|---|---:|---:|---:|---:|"]
    for task, row in results["per_task"].items():
        per_task.append(f"| {task} | {row['category']} | {row['distribution']} | {row['n']} | "
                        f"{_pct(row['accuracy'])} | {_pct(row['format_rate'])} | {row['tool_calls_per_episode']:.2f} |")
    return "\n\n".join([
        f"# Evaluation: {name}", "## Accuracy", paper_table([(name, results)]), "\n".join(per_task),
        "## Error attribution (primary error of failed episodes)", attribution_markdown(results["errors"]),
        "## Tool usage", tools_markdown(results["tools"], latency_note(results)),
    ]) + "\n"


def _bars(title: str, items: Sequence[tuple[str, float]], unit: str = "%", scale: float = 100.0,
          digits: int = 1) -> str:
    width, bar_h, left = 640, 22, 180
    height = 40 + bar_h * len(items)
    top = max([v * scale for _, v in items] + [1e-9])
    rows = []
    for i, (label, value) in enumerate(items):
        y = 30 + i * bar_h
        w = (width - left - 60) * (value * scale) / top
        rows.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>'
                    f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="#4c78a8"/>'
                    f'<text x="{left + w + 4:.1f}" y="{y + 15}">{value * scale:.{digits}f}{unit}</text>')
    return (f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="12" '
            f'font-family="sans-serif"><text x="4" y="16" font-weight="bold">{html.escape(title)}</text>'
            + "".join(rows) + "</svg></figure>")


def _curve(title: str, points: Sequence[tuple[float, float]]) -> str:
    width, height, pad = 640, 220, 40
    if len(points) < 2:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = lambda x: pad + (width - 2 * pad) * (x - x0) / ((x1 - x0) or 1)  # noqa: E731
    sy = lambda y: height - pad - (height - 2 * pad) * (y - y0) / ((y1 - y0) or 1)  # noqa: E731
    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(points))
    return (f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="12" '
            f'font-family="sans-serif"><text x="4" y="16" font-weight="bold">{html.escape(title)}</text>'
            f'<path d="{path}" fill="none" stroke="#e45756" stroke-width="2"/>'
            f'<text x="{pad}" y="{height - 8}">step {x0:g}</text><text x="{width - pad}" y="{height - 8}" '
            f'text-anchor="end">step {x1:g}</text><text x="4" y="{sy(y1) + 4:.1f}">{y1:.3g}</text>'
            f'<text x="4" y="{sy(y0) + 4:.1f}">{y0:.3g}</text></svg></figure>')


def _html_blocks(text: str) -> str:
    """Our Markdown (headings, paragraphs and pipe tables, as `markdown` writes them) as HTML."""
    out, table = [], []

    def flush() -> None:
        if not table:
            return
        rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table]
        align = ["right" if c.endswith(":") else "left" for c in rows[1]] if len(rows) > 1 else []
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f'<td style="text-align:{a}">{html.escape(c)}</td>'
                                        for c, a in zip(r, align or ["left"] * len(r))) + "</tr>" for r in rows[2:])
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            continue  # the page has its own title
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    flush()
    return "\n".join(out)


def _episodes_html(results: dict, run_dir: str | None) -> str:
    from .viewer import episode_address

    episodes = results.get("episodes") or []
    if not episodes or run_dir is None:
        return ""
    rows = "".join(
        f"<tr><td><a href='{html.escape(episode_address(run_dir, e['id']))}'>{html.escape(e['task'])} / "
        f"{html.escape(str(e['example_id']))}</a>"
        f"</td><td class='{'ok' if e['correct'] else 'bad'}'>{'correct' if e['correct'] else 'wrong'}</td>"
        f"<td style='text-align:right'>{e['reward'] if e['reward'] is not None else '–'}</td>"
        f"<td>{html.escape(e['primary_error'] or '')}</td></tr>" for e in episodes)
    where = html.escape(run_dir)
    return (f"<h2>Episodes</h2><p>Each links to the viewer: start it on this run or any folder above it, e.g. "
            f"<code>vista view {where}</code> (port 8765).</p><details><summary>{len(episodes)} episodes</summary>"
            "<table><thead><tr><th>episode</th><th>result</th><th>reward</th><th>primary error</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>")


def html_report(results: dict, name: str = "run", training_metrics: list[dict] | None = None,
                run_dir: str | None = None) -> str:
    """A self-contained page: the tables of `markdown` as HTML tables, plots of accuracy per task, error classes,
    tool usage and tool latency, reward/accuracy/tool-call curves when a training run's metrics are given, and
    every episode linked to the viewer (`vista view`)."""
    per_tool = results["tools"]["per_tool"]
    plots = [
        _bars("Accuracy per task", [(t, r["accuracy"]) for t, r in results["per_task"].items()]),
        _bars("Primary error of failed episodes", [(c, v["share"]) for c, v in results["errors"]["primary"].items()]),
        _bars("Share of tool calls", [(t, r["share"]) for t, r in per_tool.items()]),
    ]
    if per_tool:
        plots.append(_bars("Tool latency, median (s)", [(t, r["latency_p50_s"]) for t, r in per_tool.items()],
                           unit=" s", scale=1.0, digits=3))
    collapse = ""
    if training_metrics:
        for key in ("reward", "accuracy", "tool_calls_per_episode"):
            plots.append(_curve(f"{key} during training",
                                [(m.get("step", i), m[key]) for i, m in enumerate(training_metrics) if key in m]))
        verdict = detect_tool_collapse(training_metrics)
        collapse = (f"<p class='{'bad' if verdict['collapsed'] else 'ok'}'>Tool-use collapse: "
                    f"{'DETECTED' if verdict['collapsed'] else 'not detected'} ({html.escape(verdict['reason'])})</p>")
    tables = _html_blocks(markdown(results, name))
    embedded = json.dumps(results).replace("</", "<\\/")  # raw text inside <script>: only "</" needs escaping
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>vista eval: {html.escape(name)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}table{{border-collapse:collapse;margin:.5em 0}}
th,td{{border:1px solid #ccc;padding:.25em .6em}}th{{background:#f0f0f0}}.bad{{color:#b00}}.ok{{color:#070}}
</style></head><body><h1>Evaluation: {html.escape(name)}</h1>
{collapse}{tables}<h2>Plots</h2>{''.join(plots)}{_episodes_html(results, run_dir)}
<script type="application/json" id="results">{embedded}</script></body></html>"""


def write_reports(run_dir: str | Path, results: dict, name: str | None = None,
                  training_metrics: list[dict] | None = None) -> dict[str, Path]:
    run_dir = Path(run_dir)
    name = name or run_dir.name
    paths = {"json": run_dir / "results.json", "markdown": run_dir / "results.md", "html": run_dir / "report.html"}
    paths["json"].write_text(json.dumps(results, indent=2))
    paths["markdown"].write_text(markdown(results, name))
    paths["html"].write_text(html_report(results, name, training_metrics, run_dir=str(run_dir)))
    return paths


def training_order(runs: Sequence[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Runs in the order of what they are: the evaluations of a training run by its stage (``config.stage``, which
    `vista-train` writes: 0 untrained, 1 after BC, 2 after GRPO), then every other run in the order given."""
    staged = sorted((r for r in runs if isinstance(r[1].get("config", {}).get("stage"), int)),
                    key=lambda r: r[1]["config"]["stage"])
    return staged + [r for r in runs if not isinstance(r[1].get("config", {}).get("stage"), int)]


def compare(runs: Sequence[tuple[str, dict]]) -> str:
    """Runs side by side (paper-style table), then every run after the first as its difference from the first, in
    accuracy points per task and overall."""
    text = paper_table(runs)
    if len(runs) >= 2:
        (base_name, base), others = runs[0], runs[1:]
        tasks = [t for t in sorted(base["per_task"]) if any(t in r["per_task"] for _, r in others)]
        lines = [f"Difference from {base_name} (accuracy points):", "",
                 "| run | " + " | ".join([*tasks, "overall"]) + " |", "|---|" + "---:|" * (len(tasks) + 1)]
        for name, results in others:
            def delta(a: float | None, b: float | None) -> str:
                return "–" if a is None or b is None else f"{100 * (b - a):+.1f}"

            cells = [delta(base["per_task"][t]["accuracy"], results["per_task"][t]["accuracy"])
                     if t in results["per_task"] else "–" for t in tasks]
            cells.append(delta(base["averages"]["overall"], results["averages"]["overall"]))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        text += "\n\n" + "\n".join(lines)
    return text + "\n"


def load_metrics(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
