"""Ray Serve mode: tools as Ray Serve deployments behind the same HTTP gateway; errors classified as in process."""

import os

import pytest
import vista
from PIL import Image
from serving import HERE, server_in_thread
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
