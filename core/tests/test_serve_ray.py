"""Ray Serve mode: tools as Ray Serve deployments behind the same HTTP gateway; errors classified as in process."""

import os
import signal
import subprocess
import sys
import time

import pytest
import vista
from PIL import Image
from serving import HERE, free_port, server_in_thread, wait_healthy
from test_serve import MALFORMED
from vista.errors import ErrorClass
from vista.serve.client import ToolServerClient, remote_tools
from vista.serve.config import ServeConfig
from vista.validation import parse_and_validate

ray = pytest.importorskip("ray", reason="Ray Serve mode needs the 'ray' extra: pip install 'vista-core[ray]'")


@pytest.fixture
def ray_with_sample_plugin(monkeypatch, tmp_path):
    """Ray replicas are separate processes: they find the test plugin through an entry point, provided here by a
    dist-info folder on the path of the driver and of every Ray worker."""
    site = tmp_path / "site"
    dist = site / "vista_sample_plugin-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vista-sample-plugin\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[vista]\nsample = sample_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    path = os.pathsep.join([str(site), str(HERE), os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    from ray import serve

    serve.shutdown()
    ray.shutdown()


@pytest.mark.slow  # starts Ray: 18 s with its fixture on 2 shared cores
def test_ray_serve_gateway_matches_in_process_validation(ray_with_sample_plugin, registry):
    from vista.serve.ray_app import deploy_tools

    service = deploy_tools(["crop", "scale"], plugins="sample", config=ServeConfig(timeout_s=60))
    with server_in_thread(service) as url:
        remote = remote_tools(url)
        image = Image.new("RGB", (40, 30), "blue")
        for raw in MALFORMED:
            _, local_valid, local_error = parse_and_validate(raw, {n: registry.tools[n] for n in ("crop", "scale")})
            _, remote_valid, remote_error = parse_and_validate(raw, remote)
            assert remote_error == local_error, raw
            if local_error is None:
                over_ray = vista.call_tool(remote_valid.tool.name, remote_valid.call.arguments, [image], tools=remote)
                assert over_ray.error.error_class is ErrorClass.E4
        result = vista.call_tool("scale", {"value": 4, "factor": 3}, tools=remote)
        assert result.ok and result.data == {"result": 12.0}
        crop = ToolServerClient(url).call("crop", {"bbox": [0, 0, 5, 5]}, {"image_0": image})
        assert crop.ok and crop.images[0].size == (5, 5)


def test_replicas_are_sized_to_the_free_cpus_or_refused():
    from vista.errors import VistaError
    from vista.serve.ray_app import replica_cpus

    assert replica_cpus(16, heavy=2, light=5, replicas=1) == (1.0, 0.1)  # room: as asked
    heavy, light = replica_cpus(2, heavy=2, light=5, replicas=1)  # 2.5 asked of 2: scaled alike
    assert (heavy, light) == (0.8, 0.08) and 2 * heavy + 5 * light <= 2
    heavy, light = replica_cpus(2, heavy=3, light=20, replicas=4)
    assert 4 * (3 * heavy + 20 * light) <= 2 and heavy >= 0.05
    with pytest.raises(VistaError, match="need 300 CPUs and Ray has 2 free; lower --replicas"):
        replica_cpus(2, heavy=20, light=100, replicas=10)


@pytest.mark.slow  # 27 s on 2 shared cores
def test_serve_ray_on_this_machine_becomes_healthy_and_stops_at_ctrl_c():
    """The math plugin's tools (two of them model tools, which asked a whole CPU each) on whatever CPUs this machine
    has: sized to fit, so the gateway answers /health; Ctrl-C stops it promptly, without a traceback."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "vista.cli", "--plugins", "math", "serve", "--ray", "--port",
                               str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", 240, server)
        server.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = server.communicate(timeout=60)
        assert time.monotonic() - started < 15 and "Traceback" not in stderr, stderr
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.slow  # 11 s on 2 shared cores
def test_serve_ray_asking_for_gpus_ray_does_not_have_is_one_line():
    if ray.is_initialized() or os.environ.get("CUDA_VISIBLE_DEVICES"):
        pytest.skip("a GPU may be here")
    completed = subprocess.run([sys.executable, "-m", "vista.cli", "--plugins", "math", "serve", "--ray", "--port",
                                str(free_port()), "--num-gpus", "1"], capture_output=True, text=True, timeout=180)
    errors = [line for line in completed.stderr.splitlines() if line.startswith("vista: error: ")]
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert len(errors) == 1 and "at --num-gpus 1 need 2 GPUs and Ray has 0 free" in errors[0], completed.stderr
