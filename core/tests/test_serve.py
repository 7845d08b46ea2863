import base64
import io
import threading
import time

import httpx
import pytest
import vista
from PIL import Image
from serving import server_in_thread, server_process
from test_env import expert
from vista.errors import ErrorClass
from vista.runner import EpisodeRunner, EpisodeSpec
from vista.serve.client import RemoteTool, ToolServerClient, attach_remote_tools
from vista.serve.config import ServeConfig
from vista.serve.service import ToolService
from vista.testing import Pause
from vista.trajectory_log import TrajectoryLog
from vista.validation import parse_and_validate

MALFORMED = [
    '{"name": "scale", "arguments": {}}',                              # E2 missing
    '{"name": "scale", "arguments": {"value": 1, "factr": 2}}',        # E2 unknown
    '{"name": "scale", "arguments": {"value": 1, "factor": 20}}',      # E3 range
    '{"name": "scale", "arguments": {"value": "x"}}',                  # E3 type
    '{"tool": "scale", "task": "pow", "value": 1}',                    # E3 enum via the dialect
    '{"name": "crop", "arguments": {"bbox": [0, 0, 500, 5]}}',         # E4 from the tool
    '{"name": "scael", "arguments": {}}',                              # E1 unknown tool
]


@pytest.fixture
def service(registry):
    tools = dict(registry.tools, pause=Pause())
    config = ServeConfig(token="s3cret", max_body_bytes=2_000_000, max_image_pixels=1_000_000,
                         per_tool={"pause": {"concurrency": 1, "max_queue": 1}}, max_batch_size=16, max_wait_ms=20)
    service = ToolService(tools, config)
    yield service


def test_remote_tools_classify_errors_exactly_as_in_process(service, registry):
    with server_in_thread(service) as url:
        remote = {name: RemoteTool(spec, ToolServerClient(url, token="s3cret"))
                  for name, spec in ((s["name"], s) for s in ToolServerClient(url, token="s3cret").list_tools())}
        image = Image.new("RGB", (40, 30), "blue")
        for raw in MALFORMED:
            _, local_valid, local_error = parse_and_validate(raw, service.tools)
            _, remote_valid, remote_error = parse_and_validate(raw, remote)
            if local_error is not None:
                assert remote_error == local_error, raw
                continue
            local = vista.call_tool(local_valid.tool.name, local_valid.call.arguments, [image], tools=service.tools)
            over_http = vista.call_tool(remote_valid.tool.name, remote_valid.call.arguments, [image], tools=remote)
            assert over_http.error == local.error and over_http.error.error_class is ErrorClass.E4
        # the server applies the same validation to what reaches it directly
        raw_http = httpx.post(f"{url}/tools/scale/call", json={"arguments": {"value": 1, "factor": 99}},
                              headers={"Authorization": "Bearer s3cret"}).json()
        assert raw_http["error"]["error_class"] == "E3" and raw_http["error"]["argument"] == "factor"
        crop = vista.call_tool("crop", {"bbox": [0, 0, 10, 10]}, [image], tools=remote)
        assert crop.ok and crop.images[0].size == (10, 10) and crop.image_names == ["image_1"]


def test_token_body_and_image_limits(service):
    with server_in_thread(service) as url:
        assert httpx.get(f"{url}/tools").status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        big = httpx.post(f"{url}/tools/scale/call", headers=auth, content=b"x" * 3_000_000)
        assert big.status_code == 413 and "limit" in big.json()["error"]
        bomb = io.BytesIO()
        Image.new("1", (5000, 5000)).save(bomb, format="PNG")  # 25 Mpx declared, a few KB on the wire
        response = httpx.post(f"{url}/tools/crop/call", headers=auth, json={
            "arguments": {"bbox": [0, 0, 1, 1]}, "images": {"image_0": base64.b64encode(bomb.getvalue()).decode()}})
        assert response.status_code == 413 and "downscale" in response.json()["error"]
        junk = httpx.post(f"{url}/tools/crop/call", headers=auth,
                          json={"arguments": {"bbox": [0, 0, 1, 1]}, "images": {"image_0": "bm90IGFuIGltYWdl"}})
        assert junk.status_code == 400


def test_overload_answers_503_with_retry_after(service):
    with server_in_thread(service) as url:
        auth = {"Authorization": "Bearer s3cret"}
        statuses = []

        def hit():
            r = httpx.post(f"{url}/tools/pause/call", headers=auth, json={"arguments": {"seconds": 0.5}}, timeout=10)
            statuses.append((r.status_code, r.headers.get("retry-after")))

        threads = [threading.Thread(target=hit) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(s for s, _ in statuses).count(200) == 2  # one running, one queued
        assert all(ra == "1" for s, ra in statuses if s == 503) and len(statuses) == 5


def test_server_killed_mid_rollout_loses_no_episode(registry, tmp_path):
    with server_process() as (url, proc):
        attach_remote_tools(registry, url, ["scale"], retries=1, backoff_s=0.05, timeout_s=5)
        log = TrajectoryLog(tmp_path)
        played = []

        def on_episode(trajectory):
            played.append(trajectory)
            if len(played) == 6:
                proc.kill()

        runner = EpisodeRunner(expert, concurrency=4, log=log, on_episode=on_episode, tools=["scale"])
        start = time.monotonic()
        trajectories = runner.run(EpisodeSpec("multiply", seed=s) for s in range(30))
        assert time.monotonic() - start < 60
    assert len(trajectories) == 30 and len(log) == 30
    failures = [c for t in trajectories for c in t.tool_calls if c.error and c.error.code == "unavailable"]
    assert failures and all("failed after 2 attempts" in c.error.message for c in failures)
    assert sum(t.correct for t in trajectories) >= 6 and all(t.terminated or t.truncated for t in trajectories)
