"""The tool server's fast paths behave exactly like the ordinary ones: light tools answered on the event loop,
admission sized per tool, batches that follow the load, `--workers`. Speed itself is measured by
bench/serve_load.py, never asserted here."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import signal
import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
import sample_plugin
import uvicorn
from PIL import Image
from serving import free_port, server_in_thread, server_process, wait_healthy
from test_cli import one_line_error, run_cli
from vista.errors import ToolUnavailableError
from vista.serve.client import ToolServerClient
from vista.serve.config import ServeConfig
from vista.serve.server import create_app
from vista.serve.service import ToolService
from vista.testing import BatchDouble


class LightScale(sample_plugin.Scale):
    name = "light_scale"
    blocking = False


class LightBroken(sample_plugin.BrokenOutput):
    name = "light_broken"
    blocking = False


class LightCrop(sample_plugin.Crop):
    name = "light_crop"
    blocking = False


class LightCrashing(sample_plugin.Crashing):
    name = "light_crashing"
    blocking = False


def png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def light(registry):
    tools = dict(registry.tools, light_scale=LightScale(), light_broken=LightBroken(), light_crop=LightCrop(),
                 light_crashing=LightCrashing(), batch_double=BatchDouble())
    # limits meant for model tools, far below the load the light tools get here
    return ToolService(tools, ServeConfig(concurrency=1, max_queue=1, light_capacity=64, max_batch_size=16,
                                          max_image_pixels=200_000))


def test_light_tools_answer_exactly_as_ordinary_ones(light):
    pairs = {"light_scale": "scale", "light_broken": "broken_output", "light_crashing": "crashing"}
    calls = [{"value": 3, "factor": 2}, {"value": 3, "mode": "div"}, {}, {"value": 1, "factr": 2},
             {"value": 1, "factor": 20}, {"value": "x"}, {"value": 1e999}]
    with server_in_thread(light) as url:
        for fast, ordinary in pairs.items():
            for arguments in calls:
                body = json.dumps({"arguments": arguments})  # Infinity included, as a careless client sends it
                answers = [httpx.post(f"{url}/tools/{name}/call", content=body).json() for name in (fast, ordinary)]
                for answer in answers:
                    answer.pop("latency_s")
                answers[0] = json.loads(json.dumps(answers[0]).replace(fast, ordinary))
                assert answers[0] == answers[1], (fast, arguments)
        # a light tool's call with an image goes to a worker thread: decoded, cropped, returned
        crop = httpx.post(f"{url}/tools/light_crop/call",
                          json={"arguments": {"bbox": [0, 0, 4, 3]}, "images": {"image_0": png(40, 30)}}).json()
        assert crop["error"] is None and len(crop["images"]) == 1
        # bodies the client must fix: one line each, as for any tool
        for body, status, words in [(b"{nope", 400, "not valid JSON"), (b"[1, 2]", 422, "must be a JSON object"),
                                    (b'{"arguments": 3}', 422, "'arguments' of the request body")]:
            answer = httpx.post(f"{url}/tools/light_scale/call", content=body)
            assert answer.status_code == status and words in answer.json()["error"], body
            assert "\n" not in answer.json()["error"]


def test_light_tools_are_not_refused_under_load_that_fills_a_model_tools_queue(light):
    with server_in_thread(light) as url:
        async def hammer(tool: str, count: int) -> list[int]:
            async with httpx.AsyncClient(limits=httpx.Limits(max_connections=count), timeout=30) as client:
                answers = await asyncio.gather(*(client.post(f"{url}/tools/{tool}/call",
                                                             json={"arguments": {"x": 1} if tool == "batch_double" else
                                                                   {"value": i}}) for i in range(count)))
            return [a.status_code for a in answers]

        assert set(asyncio.run(hammer("light_scale", 48))) == {200}
        # the same load on a batching tool with concurrency 1 + max_queue 1 is refused, with Retry-After
        statuses = asyncio.run(hammer("batch_double", 48))
        assert 503 in statuses and 200 in statuses


class Where(sample_plugin.Scale):
    """`scale` that records, for each call, whether it ran on an event loop; `blocking` as its subclasses say."""

    def __init__(self):
        self.on_loop: list[bool] = []

    def run(self, args, ctx):
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)
        return super().run(args, ctx)


class Undeclared(Where):
    name = "undeclared"


class DeclaredLight(Where):
    name = "declared_light"
    blocking = False


class DeclaredModel(Where):
    name = "declared_model"
    blocking = True


class UndeclaredBatching(sample_plugin.Scale):
    name = "undeclared_batching"

    def run_batch(self, batch):
        return [self.run(args, ctx) for args, ctx in batch]


class UndeclaredAsync(sample_plugin.Scale):
    name = "undeclared_async"

    async def arun(self, args, ctx):
        return self.run(args, ctx)


@contextmanager
def held(url: str, tool: str, count: int):
    """``count`` calls of ``tool`` admitted whose bodies have not arrived, so they hold their places, from when the
    server's /metrics counts them all until it has let them all go."""
    port = int(url.rsplit(":", 1)[1])
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(f"POST /tools/{tool}/call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: 40\r\n\r\n{{".encode())
            sockets.append(sock)
        wait_for_queue_depth(url, tool, count)
        yield
    finally:
        for sock in sockets:
            sock.close()
    wait_for_queue_depth(url, tool, 0)


def wait_for_queue_depth(url: str, tool: str, depth: int) -> None:
    line = f'vista_tool_queue_depth{{tool="{tool}"}} {float(depth)}'
    for _ in range(200):  # connections come and go in the server's own time
        if line in httpx.get(f"{url}/metrics").text:
            return
        time.sleep(0.05)
    raise AssertionError(f"the server's queue of {tool} never held {depth} calls")


def test_admission_follows_what_a_tool_declares_and_its_shape():
    tools = [Undeclared(), DeclaredLight(), DeclaredModel(), UndeclaredBatching(), UndeclaredAsync()]
    # places: concurrency 1 + max_queue 1 for model tools, light_capacity 6 for light ones
    service = ToolService({tool.name: tool for tool in tools}, ServeConfig(concurrency=1, max_queue=1,
                                                                           light_capacity=6))
    with server_in_thread(service) as url:
        def call(tool: str) -> httpx.Response:
            return httpx.post(f"{url}/tools/{tool}/call", json={"arguments": {"value": 2}})

        # a tool that declares nothing and neither batches nor awaits is admitted as a light tool
        with held(url, "undeclared", 5):
            assert call("undeclared").json()["data"] == {"result": 4.0}
        with held(url, "undeclared", 6):
            refused = call("undeclared")
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        # model tools, declared or by their shape, keep a model's short queue
        for name in ("declared_model", "undeclared_batching", "undeclared_async"):
            with held(url, name, 1):
                assert call(name).json()["data"] == {"result": 4.0}, name
            with held(url, name, 2):
                refused = call(name)
                assert refused.status_code == 503 and name in refused.json()["error"], name
        # only a tool that promises to be quick runs on the event loop; one that declares nothing never does
        for _ in range(3):
            for name in ("undeclared", "declared_light", "declared_model"):
                assert call(name).status_code == 200
    undeclared, light, model = tools[:3]
    assert set(undeclared.on_loop) == {False} and set(model.on_loop) == {False} and set(light.on_loop) == {True}


def test_a_light_tool_is_refused_past_its_own_capacity(registry):
    service = ToolService(dict(registry.tools, light_scale=LightScale()), ServeConfig(light_capacity=2))
    with server_in_thread(service) as url:
        with held(url, "light_scale", 2):
            refused = httpx.post(f"{url}/tools/light_scale/call", json={"arguments": {"value": 1}})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert "light_scale" in refused.json()["error"]
        answer = httpx.post(f"{url}/tools/light_scale/call", json={"arguments": {"value": 1}})  # places given back
        assert answer.status_code == 200 and answer.json()["data"] == {"result": 2.0}


def test_batches_follow_the_load_and_metrics_show_them(light):
    doubler = light.tools["batch_double"]
    with server_in_thread(light) as url:
        client = ToolServerClient(url)
        for x in range(4):  # one client: each call runs alone, nobody waits for companions
            assert client.call("batch_double", {"x": x}, {}).data["y"] == 2 * x
        assert doubler.sizes == [1, 1, 1, 1]
        doubler.sizes.clear()
        light.config.per_tool["batch_double"] = {"max_queue": 64}

        async def many():
            return await asyncio.gather(*(client.acall("batch_double", {"x": i}, {}) for i in range(32)))

        results = asyncio.run(many())
        assert [r.data["y"] for r in results] == [2 * i for i in range(32)]
        assert sum(doubler.sizes) == 32 and max(doubler.sizes) > 1 and max(doubler.sizes) <= 16
        metrics = httpx.get(f"{url}/metrics").text
        assert 'vista_tool_calls_total{tool="batch_double"} 36.0' in metrics  # the 4 alone, then the 32
        assert "vista_tool_batch_size_bucket" in metrics and "vista_tool_queue_depth" in metrics
        # images are decoded with the batch, in its thread; one that cannot be is that call's 400, as anywhere
        for side in (16, 400):
            answer = httpx.post(f"{url}/tools/batch_double/call",
                                json={"arguments": {"x": 1}, "images": {"image_0": png(side, side)}}).json()
            assert answer["data"] == {"y": 2.0, "pixels": side * side}
        junk = httpx.post(f"{url}/tools/batch_double/call",
                          json={"arguments": {"x": 1}, "images": {"image_0": "bm9wZQ=="}})
        assert junk.status_code == 400 and "image_0" in junk.json()["error"]


def test_workers_share_the_port_replace_the_fallen_and_stop_together():
    psutil = pytest.importorskip("psutil")
    with server_process("workers=2, shutdown_grace_s=1") as (url, proc):
        parent = psutil.Process(proc.pid)
        workers = parent.children()
        assert len(workers) == 2
        for value in range(8):  # a new connection each: the kernel spreads them over the workers
            answer = httpx.post(f"{url}/tools/scale/call", json={"arguments": {"value": value}})
            assert answer.json()["data"] == {"result": 2.0 * value}
        workers[0].kill()
        workers[0].wait(10)
        for _ in range(100):
            if len(parent.children()) == 2:
                break
            time.sleep(0.1)
        replaced = parent.children()
        assert len(replaced) == 2 and workers[0].pid not in {w.pid for w in replaced}
        wait_healthy(url, 30)
        assert httpx.post(f"{url}/tools/scale/call", json={"arguments": {"value": 1}}).json()["data"]["result"] == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in replaced)


@pytest.mark.parametrize("flags, words", [(["--workers", "0"], "workers must be >= 1"),
                                          (["--light-capacity", "0"], "light_capacity must be >= 1"),
                                          (["--ray", "--workers", "2"], "with --ray, scale with --replicas")])
def test_serve_flags_out_of_range_are_one_line(flags, words):
    completed = run_cli("--plugins", "none", "serve", "--port", "0", *flags)
    assert completed.returncode != 0 and words in one_line_error(completed.stderr)


def test_health_and_tools_answer_json(light):
    with server_in_thread(light) as url:
        assert httpx.get(f"{url}/health").json()["status"] == "ok"
        assert "light_scale" in {spec["name"] for spec in json.loads(httpx.get(f"{url}/tools").content)}


@contextmanager
def counted_server(service: ToolService):
    """A real server whose requests (method and path) are recorded, as the client sent them."""
    seen: list[str] = []
    app = create_app(service)

    async def counting(scope, receive, send):
        if scope["type"] == "http":
            seen.append(scope["path"])
        await app(scope, receive, send)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    try:
        yield url, seen
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_calls_made_together_travel_together_and_each_gets_its_own_answer(light):
    with counted_server(light) as (url, seen):
        client = ToolServerClient(url, batch_calls=16)

        async def together(name: str, calls: list[tuple[dict, dict]]) -> list:
            return await asyncio.gather(*(client.acall(name, arguments, images) for arguments, images in calls),
                                        return_exceptions=True)

        seen.clear()
        results = asyncio.run(together("light_scale", [({"value": i}, {}) for i in range(40)]))
        assert [r.data["result"] for r in results] == [2.0 * i for i in range(40)]
        assert seen == ["/tools/light_scale/batch"] * 3  # 16 + 16 + 8
        seen.clear()
        assert asyncio.run(together("scale", [({"value": 5}, {})]))[0].data["result"] == 10  # alone: no batch
        assert seen == ["/tools/scale/call"]
        # calls made one by one while a request is on the wire wait for it, then go together
        client = ToolServerClient(url, max_in_flight=1)

        async def one_by_one() -> list:
            calls = []
            for value in range(10):
                calls.append(asyncio.ensure_future(client.acall("light_scale", {"value": value}, {})))
                await asyncio.sleep(0)  # the next call in a later turn of the loop
            return await asyncio.gather(*calls)

        seen.clear()
        assert [r.data["result"] for r in asyncio.run(one_by_one())] == [2.0 * v for v in range(10)]
        assert seen[0] == "/tools/light_scale/call" and "/tools/light_scale/batch" in seen and len(seen) < 10
        client = ToolServerClient(url, batch_calls=16)
        # a batch the server refuses as such (one image over its pixel limit): each call is answered on its own
        image, huge = Image.new("RGB", (20, 10), "blue"), Image.new("RGB", (1000, 1000), "blue")
        results = asyncio.run(together("crop", [({"bbox": [0, 0, 5, 5]}, {"image_0": image}),
                                                ({"bbox": [0, 0, 50, 50]}, {"image_0": image}),
                                                ({"bbox": [0, 0, 5, 5]}, {"image_0": huge})]))
        assert results[0].ok and results[0].images[0].size == (5, 5)
        assert results[1].error.error_class.value == "E4"
        assert isinstance(results[2], ToolUnavailableError) and "downscale" in str(results[2])
        # a tool the server lacks: E1 for each, as for single calls
        results = asyncio.run(together("no_such_tool", [({}, {}), ({}, {})]))
        assert [r.error.error_class.value for r in results] == ["E1", "E1"]
    client = ToolServerClient(url, retries=0)  # the server is gone
    results = asyncio.run(together("scale", [({"value": 1}, {})] * 3))
    assert all(isinstance(r, ToolUnavailableError) and "is `vista serve` running?" in str(r) for r in results)
