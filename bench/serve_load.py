"""Tool-server load test on 127.0.0.1, bounded in requests and time: `vista serve` beside the stack's ceiling and
beside verl-tool's tool server, all driven by the same load generator in the same run.

    python bench/serve_load.py [--requests 3000] [--rounds 2] [--verl-tool /path/to/verl-tool] [--workers 1,2,4]
                               [--clients 1,32,256] [--no-batching]

1. A light tool (`add`, declared ``blocking = False``, so it runs on the event loop) behind `vista serve` with the
   server's default settings; the same tool as a third party writes it who has never heard of `Tool.blocking`
   (`add_undeclared`: it declares nothing, so it runs in a worker thread and is admitted as a light tool), on the
   same server; the same endpoint shape on a bare FastAPI + uvicorn app (one JSON endpoint: parse the body, return
   a dict; the ceiling of the stack on this machine) and, with ``--verl-tool``, verl-tool's single-process
   `tool_server` on its no-op `base` tool (as shipped: uvloop, httptools, no access log, request hashing on; every
   request gets a new trajectory id, so its cache never answers). Each server runs in its own process. requests/s,
   p50, p99 and 503s (refused) at 1, 32 and 256 concurrent clients (``--clients``), each point ``--requests``
   requests or ``--deadline-s`` seconds, whichever comes first; rounds interleave the servers (their order
   rotating), so a burst of load from other jobs hits all of them; the ratios are taken within each round. Also
   `vista serve --workers N` for each N of ``--workers`` (light tool, every point but 1 client).
2. The client the environment uses (`ToolServerClient`, httpx) at 64 calls in flight on the light tool, each call
   its own request (``batch_calls=1``, as before this issue) and pipelined (the default: at most 8 requests of a
   tool on the wire, the calls made meanwhile sent together): calls/s per round, with each episode's calls made
   back to back, and scattered (a random 0-2 ms before each call, as generation would).
3. Dynamic batching: a tiny real model tool (a transformers ViT built from a config, random weights, 32x32 images
   in 8x8 patches, 4 layers of width 64, torch on 2 threads) at 32 clients, with `run_batch` (batches formed from
   what queued while the previous batch ran) and the same model one call at a time; throughput ratio per round.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio (uvloop when installed), one connection per
client, request bytes prepared in advance: a Python HTTP library (httpx: about 1 ms of CPU a request) would be the
bottleneck, not the servers. Each connection is opened and used once before the clock starts, so a point measures
the steady state, not 256 connections being accepted. It shares the machine's cores with the servers; every server
pays that alike.

Where the time of one light call goes (``--profile``; in-process costs from timeit, 2-core machine, load ≈ 1;
before this issue's changes a call also paid 3 thread-pool hops of ~180 µs, h11 and the access log):

    json.loads of the body              ~2 µs      jsonschema + pydantic (validate_call)    ~27 µs
    the tool (run_validated)            ~4 µs      result as JSON (pydantic, to_json)        ~1 µs
    metrics (3 label lookups)            ~3 µs      one thread-pool hop (submit + wake loop) ~55 µs alone,
                                                                                  ~180 µs under load

so a light tool runs on the event loop, parse to encoded result (no hop: about 35 µs of ours a call), and a
batching tool's small calls are prepared there too (the batch in its thread is the one hop). A cProfile of the
server at 32 clients (5,000 calls) puts the rest in the HTTP stack: socket writes inside httptools' `send`, then
FastAPI's routing and dependency solving (~20% of the Python time), Starlette, uvicorn; of ours, validate_call
(jsonschema, then pydantic) is the largest part. What is left is mostly what the bare app pays too.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "tests"))

import vista  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from pydantic import Field  # noqa: E402
from serving import free_port, wait_healthy  # noqa: E402


class AddArgs(vista.ToolArguments):
    a: float = Field(description="first number")
    b: float = Field(description="second number")


class AddUndeclared(vista.Tool):
    """`add` as a third party writes it who has never heard of `Tool.blocking`: it declares nothing."""

    name = "add_undeclared"
    family = "bench"
    description = "adds two numbers"
    Arguments = AddArgs

    def run(self, args, ctx):
        return vista.ToolResult(text=str(args.a + args.b), data={"sum": args.a + args.b})


class Add(AddUndeclared):
    name = "add"
    blocking = False  # microseconds of pure Python: runs on the server's event loop


class Classify(vista.Tool):
    """A real transformers ViT (tiny config, random weights) classifying the episode image."""

    name = "classify"
    family = "bench"
    description = "classifies the image"
    Arguments = vista.ToolArguments

    def __init__(self):
        import torch
        from transformers import ViTConfig, ViTForImageClassification

        torch.manual_seed(0)
        # one intra-op thread for both variants (only batching differs): on 2 shared cores, two threads spin
        # against each other and the other jobs, and one forward pass took 20-700 ms instead of 2.4
        torch.set_num_threads(1)
        self.torch = torch
        self.model = ViTForImageClassification(ViTConfig(
            image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=4, num_attention_heads=2,
            intermediate_size=256, num_labels=10)).eval()

    def _pixels(self, images):
        import numpy as np

        arrays = [np.asarray(img.convert("RGB").resize((32, 32)), dtype="float32") / 255.0 for img in images]
        return self.torch.tensor(np.stack(arrays)).permute(0, 3, 1, 2)

    def run_batch(self, batch):
        with self.torch.inference_mode():
            logits = self.model(pixel_values=self._pixels([ctx.image() for _, ctx in batch])).logits
        return [vista.ToolResult(text=f"class {int(row.argmax())}", data={"label": int(row.argmax())})
                for row in logits]

    def run(self, args, ctx):
        return self.run_batch([(args, ctx)])[0]


class ClassifyUnbatched(Classify):
    name = "classify_unbatched"
    run_batch = vista.Tool.run_batch  # the same model, one forward pass per call

    def run(self, args, ctx):
        return Classify.run_batch(self, [(args, ctx)])[0]


# -- the servers, each in its own process ----------------------------------------------------------------------------

def serve_vista(port: int, workers: int) -> None:
    from vista.serve.config import ServeConfig
    from vista.serve.server import serve
    from vista.serve.service import ToolService

    tools = {"add": Add(), "add_undeclared": AddUndeclared()}
    serve(ToolService(tools, ServeConfig(port=port, workers=workers)))  # default limits


def serve_model(port: int) -> None:
    from vista.serve.config import ServeConfig
    from vista.serve.server import serve
    from vista.serve.service import ToolService

    tools = {"classify": Classify(), "classify_unbatched": ClassifyUnbatched()}
    serve(ToolService(tools, ServeConfig(port=port, max_batch_size=32,
                                         per_tool={"classify_unbatched": {"concurrency": 1}})))


def serve_bare(port: int) -> None:
    import uvicorn

    app = FastAPI()

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.post("/call")
    async def call(request: Request):
        body = await request.json()
        total = body["arguments"]["a"] + body["arguments"]["b"]
        return {"text": str(total), "data": {"sum": total}}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def process(command: list[str], url: str, env: dict | None = None, what: str = "server"):
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    try:
        try:
            wait_healthy(url, 120)
        except TimeoutError:
            proc.kill()
            err = proc.stderr.read().decode(errors="replace").strip().splitlines()
            raise SystemExit(f"{what} did not start: {err[-1] if err else 'no output'}") from None
        yield url
    finally:
        proc.kill()
        proc.wait()


def own(role: str, *extra: str):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return process([sys.executable, __file__, "--serve", role, str(port), *extra], url, what=role), port


def check_verl_tool(path: Path) -> None:
    if not (path / "verl_tool" / "servers" / "tool_server.py").is_file():
        raise SystemExit(f"--verl-tool {path}: no verl_tool/servers/tool_server.py there; give the folder of a "
                         "TIGER-AI-Lab/verl-tool checkout")


def verl_tool(path: Path):
    port = free_port()
    command = [sys.executable, "-m", "verl_tool.servers.tool_server", "--tool_type", "base", "--host", "127.0.0.1",
               "--port", str(port)]
    return process(command, f"http://127.0.0.1:{port}", env={"PYTHONPATH": str(path)}, what="verl-tool"), port


# -- the load generator ----------------------------------------------------------------------------------------------

def post(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Target:
    """What one server is asked: ``request(i)`` the bytes of request i, ``ok(body)`` whether its answer is right."""

    def __init__(self, label: str, port: int, request, ok):
        self.label, self.port, self.request, self.ok = label, port, request, ok


UNDECLARED = "vista serve, undeclared"  # the same server, its tool that declares nothing about blocking


def vista_target(label: str, port: int, tool: str = "add", body: bytes = b'{"arguments": {"a": 1, "b": 2}}'):
    raw = post(f"/tools/{tool}/call", body)
    return Target(label, port, lambda i: raw, lambda body: b'"error":null' in body)


def bare_target(port: int):
    raw = post("/call", b'{"arguments": {"a": 1, "b": 2}}')
    return Target("bare FastAPI", port, lambda i: raw, lambda body: b'"sum":3' in body)


def verl_target(port: int):
    def request(i: int) -> bytes:
        return post("/get_observation", f'{{"trajectory_ids": ["t{i}-{time.perf_counter_ns()}"], '
                                        f'"actions": ["<tool_call>noop</tool_call>"]}}'.encode())
    return Target("verl-tool", port, request, lambda body: b'"observations"' in body)


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is not None:
        return status, await reader.readexactly(length)
    body = b""  # chunked
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


async def load(target: Target, clients: int, requests: int, deadline_s: float) -> dict:
    latencies: list[float] = []
    refused = wrong = 0
    numbers = itertools.count()
    stop_at = float("inf")  # set when every client is connected
    connected, go = [], asyncio.Event()

    async def client():
        nonlocal refused, wrong, stop_at
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        try:
            await exchange(reader, writer, target.request(-1))  # the connection in use before the clock starts
            connected.append(1)
            if len(connected) == clients:
                stop_at = time.perf_counter() + deadline_s
                go.set()
            await go.wait()
            while time.perf_counter() < stop_at:
                i = next(numbers)
                if i >= requests:
                    return
                raw = target.request(i)
                start = time.perf_counter()
                status, body = await exchange(reader, writer, raw)
                if status == 200 and target.ok(body):
                    latencies.append(time.perf_counter() - start)
                elif status == 503:
                    refused += 1
                else:
                    wrong += 1
                    if wrong == 1:
                        print(f"  {target.label}: HTTP {status}: {body[:200]!r}", file=sys.stderr)
        finally:
            writer.close()

    tasks = [asyncio.ensure_future(client()) for _ in range(clients)]
    await asyncio.wait([asyncio.ensure_future(go.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED)
    start = time.perf_counter()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - start
    latencies.sort()
    point = {"clients": clients, "answered": len(latencies), "refused_503": refused, "wrong": wrong,
             "requests_per_s": round(len(latencies) / wall, 1)}
    if latencies:
        point.update(p50_ms=round(statistics.median(latencies) * 1000, 2),
                     p99_ms=round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 2))
    return point


# -- the runs --------------------------------------------------------------------------------------------------------

def light_rounds(targets: list[Target], scaling: list[Target], args) -> dict:
    """Every point of every server once per round; the servers' order rotates from round to round, so none is
    always the one measured right after a heavy point. Before each point the generator collects its garbage and
    the machine gets half a second to settle (connections of the previous point closing)."""
    results: dict[str, dict[int, list[dict]]] = {t.label: {c: [] for c in args.clients} for t in targets + scaling}

    async def run() -> None:
        for target in targets + scaling:  # warm-up: connections, imports, caches
            await load(target, 8, 200, 10)
        for round_ in range(args.rounds):
            shift = round_ % len(targets)
            order = targets[shift:] + targets[:shift]
            for clients in args.clients:
                for target in order + (scaling if clients > 1 else []):
                    gc.collect()
                    await asyncio.sleep(0.5)
                    point = await load(target, clients, args.requests, args.deadline_s)
                    results[target.label][clients].append(point)
                    print(f"  round {round_ + 1} {target.label:>22} {clients:>3} clients: "
                          f"{point['requests_per_s']:>7} req/s p50 {point.get('p50_ms')} ms "
                          f"p99 {point.get('p99_ms')} ms refused {point['refused_503']}", file=sys.stderr)

    asyncio.run(run())
    return results


def batching_rounds(port: int, args) -> dict:
    import base64
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (32, 32), "gray").save(png, format="PNG")
    body = json.dumps({"arguments": {}, "images": {"image_0": base64.b64encode(png.getvalue()).decode()}}).encode()
    batched = vista_target("batched", port, "classify", body)
    one_at_a_time = vista_target("one at a time", port, "classify_unbatched", body)
    requests = min(args.requests, 1000)
    rounds: list[dict] = []

    async def run() -> None:
        for target in (batched, one_at_a_time):
            await load(target, 8, 50, 30)
        for round_ in range(args.rounds):
            order = (batched, one_at_a_time) if round_ % 2 == 0 else (one_at_a_time, batched)
            points = {t.label: await load(t, 32, requests, args.deadline_s) for t in order}
            points["ratio"] = round(points["batched"]["requests_per_s"] /
                                    max(points["one at a time"]["requests_per_s"], 1e-9), 2)
            print(f"  round {round_ + 1} batching at 32 clients: {points['batched']['requests_per_s']} vs "
                  f"{points['one at a time']['requests_per_s']} req/s = {points['ratio']}x", file=sys.stderr)
            rounds.append(points)

    asyncio.run(run())
    return {"rounds": rounds, "ratio_range": [min(r["ratio"] for r in rounds), max(r["ratio"] for r in rounds)]}


def client_rounds(url: str, args) -> dict:
    from vista.serve.client import ToolServerClient

    calls = min(args.requests, 2000)
    rounds: list[dict] = []

    async def run(batch_calls: int, spread_s: float) -> float:
        client = ToolServerClient(url, batch_calls=batch_calls)
        jitter = random.Random(0)
        numbers = iter(range(calls))
        stop_at = time.perf_counter() + args.deadline_s
        done = 0

        async def episode():
            nonlocal done
            for _ in numbers:
                if time.perf_counter() > stop_at:
                    return
                if spread_s:  # the episode's generation: calls made at scattered moments, not in one turn
                    await asyncio.sleep(jitter.uniform(0, spread_s))
                result = await client.acall("add", {"a": 1, "b": 2}, {})
                if not result.ok:
                    raise RuntimeError(result.error)
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(episode() for _ in range(64)))
        wall = time.perf_counter() - start
        await client.aclose()
        return round(done / wall, 1)

    for round_ in range(args.rounds):
        point = {}
        for spread_s in (0.0, 0.002):
            order = (1, 32) if round_ % 2 == 0 else (32, 1)
            rates = {n: asyncio.run(run(n, spread_s)) for n in order}
            point[f"calls {'scattered over 0-2 ms' if spread_s else 'back to back'}"] = {
                "one request a call": rates[1], "pipelined": rates[32],
                "ratio": round(rates[32] / max(rates[1], 1e-9), 2)}
        print(f"  round {round_ + 1} client at 64 in flight: {point}", file=sys.stderr)
        rounds.append(point)
    return {"rounds": rounds}


def summary(results: dict, ours: str, others: list[str]) -> dict:
    table = {}
    for label, by_clients in results.items():
        table[label] = {}
        for clients, points in by_clients.items():
            if not points:
                continue
            rates = [p["requests_per_s"] for p in points]
            table[label][clients] = {"req_per_s": [min(rates), max(rates)],
                                     "p50_ms": [min(p.get("p50_ms", 0) for p in points),
                                                max(p.get("p50_ms", 0) for p in points)],
                                     "p99_ms": [min(p.get("p99_ms", 0) for p in points),
                                                max(p.get("p99_ms", 0) for p in points)],
                                     "refused_503": sum(p["refused_503"] for p in points),
                                     "wrong": sum(p["wrong"] for p in points)}
    ratios = {}
    for other in others:
        ratios[f"{ours} / {other}"] = {
            clients: [min(r), max(r)] for clients in results[ours]
            if (r := [a["requests_per_s"] / max(b["requests_per_s"], 1e-9)
                      for a, b in zip(results[ours][clients], results[other][clients])])}
        ratios[f"{ours} / {other}"] = {c: [round(lo, 2), round(hi, 2)] for c, (lo, hi) in
                                       ratios[f"{ours} / {other}"].items()}
    return {"table": table, "ratios_per_round_min_max": ratios}


def print_table(table: dict) -> None:
    print(f"{'server':>22} {'clients':>7} {'req/s (min-max over rounds)':>28} {'p50 ms':>14} {'p99 ms':>16} 503s")
    for label, by_clients in table.items():
        for clients, row in by_clients.items():
            rate, p50, p99 = row["req_per_s"], row["p50_ms"], row["p99_ms"]
            print(f"{label:>22} {clients:>7} {rate[0]:>13.0f} - {rate[1]:<12.0f} {p50[0]:>6.2f}-{p50[1]:<7.2f} "
                  f"{p99[0]:>7.1f}-{p99[1]:<8.1f} {row['refused_503']}")


def profile() -> None:
    """In-process costs of one light call's parts (the figures in this module's docstring)."""
    import timeit
    from concurrent.futures import ThreadPoolExecutor

    from vista.execution import run_validated
    from vista.protocol import ToolCall
    from vista.serve.metrics import ServeMetrics
    from vista.serve.wire import result_json
    from vista.tool import ToolContext
    from vista.validation import validate_call

    tool, body = Add(), b'{"arguments": {"a": 1, "b": 2}}'
    validated, _ = validate_call(ToolCall(name="add", arguments={"a": 1, "b": 2}), {"add": tool})
    result = run_validated(tool, validated.arguments, ToolContext({}))
    metrics = ServeMetrics()
    parts = {
        "json.loads": lambda: json.loads(body),
        "validate_call": lambda: validate_call(ToolCall(name="add", arguments={"a": 1, "b": 2}), {"add": tool}),
        "run_validated": lambda: run_validated(tool, validated.arguments, ToolContext({})),
        "result_json": lambda: result_json(result),
        "metrics": lambda: metrics.observe("add", result, 0.001),
    }
    for name, fn in parts.items():
        print(f"{name:>14}: {min(timeit.repeat(fn, number=5000, repeat=5)) / 5000 * 1e6:.1f} µs")
    pool = ThreadPoolExecutor(4)

    async def hops(n: int) -> float:
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        for _ in range(n):
            await loop.run_in_executor(pool, int)
        return (time.perf_counter() - start) / n

    print(f"{'thread hop':>14}: {asyncio.run(hops(5000)) * 1e6:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per point (default 3000)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--deadline-s", type=float, default=20.0, help="most seconds per point (default 20)")
    parser.add_argument("--verl-tool", type=Path, metavar="PATH", help="a verl-tool checkout to run beside ours")
    parser.add_argument("--clients", default="1,32,256", help="concurrent clients of the light-tool points")
    parser.add_argument("--workers", default="1,2,4", help="`vista serve --workers` values to measure")
    parser.add_argument("--no-batching", action="store_true", help="skip the model tool (no torch import)")
    parser.add_argument("--profile", action="store_true", help="print the in-process costs of a light call")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        role, port, *extra = args.serve
        return {"vista": lambda: serve_vista(int(port), int(extra[0])), "model": lambda: serve_model(int(port)),
                "bare": lambda: serve_bare(int(port))}[role]()
    if args.profile:
        return profile()
    try:
        workers = sorted({int(n) for n in args.workers.split(",")})
        args.clients = sorted({int(n) for n in args.clients.split(",")})
    except ValueError:
        raise SystemExit(f"--workers {args.workers!r} / --clients {args.clients!r}: give counts as a comma list, "
                         "e.g. 1,2,4") from None
    if args.requests < 1 or args.rounds < 1 or args.deadline_s <= 0 or min(workers) < 1 or min(args.clients) < 1:
        raise SystemExit("--requests, --rounds, --deadline-s, --workers and --clients must be positive")
    if args.verl_tool:
        check_verl_tool(args.verl_tool)
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    report: dict = {"requests_per_point": args.requests, "rounds": args.rounds,
                    "load_average_at_start": os.getloadavg()[0]}
    with ExitStack() as stack:
        server, port = own("vista", "1")
        stack.enter_context(server)
        targets = [vista_target("vista serve", port), vista_target(UNDECLARED, port, "add_undeclared")]
        server, port = own("bare")
        stack.enter_context(server)
        targets.append(bare_target(port))
        if args.verl_tool:
            server, port = verl_tool(args.verl_tool.resolve())
            stack.enter_context(server)
            targets.append(verl_target(port))
        scaling = []
        for n in workers:
            if n == 1:
                continue
            server, port = own("vista", str(n))
            stack.enter_context(server)
            scaling.append(vista_target(f"vista serve --workers {n}", port))
        results = light_rounds(targets, scaling, args)
        report["client_64_in_flight_calls_per_s"] = client_rounds(f"http://127.0.0.1:{targets[0].port}", args)
    others = [UNDECLARED, "bare FastAPI"] + (["verl-tool"] if args.verl_tool else [])
    report["light_tool"] = summary(results, "vista serve", others)
    if not args.no_batching:
        server, port = own("model")
        with server:
            report["model_tool_32_clients"] = batching_rounds(port, args)
    report["load_average_at_end"] = os.getloadavg()[0]
    print_table(report["light_tool"]["table"])
    print(json.dumps({k: v for k, v in report.items() if k != "light_tool"} |
                     {"ratios": report["light_tool"]["ratios_per_round_min_max"]}, indent=1))


if __name__ == "__main__":
    main()
