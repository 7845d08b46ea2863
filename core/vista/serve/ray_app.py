"""Ray Serve mode (`vista serve --ray`): every tool a Ray Serve deployment, so a cluster scales tools across machines.

Tools that implement `run_batch` (the model-backed ones) are heavy: their replicas request ``num_gpus`` and batch with
Ray Serve's own `@serve.batch`. Light tools get fractional CPUs. The replicas are sized to what the cluster has free
(`replica_cpus`): a heavy replica asks for one CPU and a light one for a tenth, scaled down together when that does
not fit, and a request that cannot fit at all (GPUs Ray does not have, or too many replicas for the CPUs) is refused
in one line before anything is deployed, instead of replicas that wait for resources forever. The HTTP gateway is
the same FastAPI app as plain mode (same endpoints, validation, limits and metrics), with a service that forwards
validated calls to the deployments' handles instead of running them in process.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any

from ..errors import ClassifiedError, ErrorClass, VistaError
from ..execution import run_validated, run_validated_batch, timeout_result
from ..protocol import ToolCall
from ..tool import ToolContext, ToolResult
from ..validation import validate_call
from .config import ServeConfig
from .service import ToolService
from .wire import decode_images, encode_images


def _replica_class():
    from ray import serve

    class ToolReplica:
        """One replica of one tool: the plugin's tool object (model resident), and Ray Serve batching."""

        def __init__(self, name: str, plugins: str | None, max_batch_size: int, max_wait_s: float,
                     max_pixels: int):
            from ..plugins import load_plugins

            self.tool = load_plugins(plugins).tool(name)
            self.max_pixels = max_pixels
            self._batched.set_max_batch_size(max_batch_size)
            self._batched.set_batch_wait_timeout_s(max_wait_s)

        def _prepare(self, payload: dict) -> tuple[Any, ToolContext]:
            validated, error = validate_call(ToolCall(name=self.tool.name, arguments=payload["arguments"]),
                                             {self.tool.name: self.tool})
            if error is not None:  # the gateway validated already; a mismatch means mixed plugin versions
                raise ValueError(error.message)
            return validated.arguments, ToolContext(decode_images(payload["images"], self.max_pixels))

        @serve.batch
        async def _batched(self, payloads: list[dict]) -> list[dict]:
            batch = [self._prepare(p) for p in payloads]
            results = await asyncio.to_thread(run_validated_batch, self.tool, batch)
            return [r.model_dump(mode="json") for r in results]

        async def call(self, payload: dict) -> dict:
            if self.tool.supports_batching:
                return await self._batched(payload)
            arguments, ctx = self._prepare(payload)
            result = await asyncio.to_thread(run_validated, self.tool, arguments, ctx)
            return result.model_dump(mode="json")

    return serve.deployment(ToolReplica)


class RayToolService(ToolService):
    """The plain service's validation, admission control, timeouts and metrics; execution on Ray Serve replicas."""

    def __init__(self, tools, handles: Mapping[str, Any], config: ServeConfig | None = None):
        super().__init__(tools, config)
        self.handles = dict(handles)

    async def _run(self, tool, arguments, ctx: ToolContext) -> ToolResult:
        timeout = self.config.for_tool(tool.name, "timeout_s")
        payload = {"arguments": arguments.model_dump(), "images": encode_images(ctx.images())}
        try:
            data = await asyncio.wait_for(self.handles[tool.name].call.remote(payload), timeout)
        except TimeoutError:
            return timeout_result(tool.name, timeout)
        except Exception as exc:  # a dead replica or actor error: an error result, the caller's episode goes on
            return ToolResult.failure(tool.name, ClassifiedError(
                error_class=ErrorClass.TOOL_FAILURE, code="replica_failed", tool=tool.name,
                message=f"tool '{tool.name}' replica failed: {type(exc).__name__}: {exc}"))
        result = ToolResult.model_validate(data)
        result.image_names = []
        return result


HEAVY_CPUS, LIGHT_CPUS = 1.0, 0.1  # what one replica asks for when the cluster has room
SMALLEST_HEAVY_CPUS = 0.05  # below this share of a CPU per model replica, refuse rather than crowd them


def replica_cpus(free_cpus: float, heavy: int, light: int, replicas: int) -> tuple[float, float]:
    """CPUs per replica of a heavy and of a light tool so that ``replicas`` of each of ``heavy`` and ``light``
    tools fit in ``free_cpus``: 1 and 0.1 when they fit, both scaled down alike when not; `VistaError` when a heavy
    replica would get under `SMALLEST_HEAVY_CPUS`."""
    wanted = replicas * (heavy * HEAVY_CPUS + light * LIGHT_CPUS)
    if wanted <= free_cpus:
        return HEAVY_CPUS, LIGHT_CPUS
    scale = free_cpus / wanted
    heavy_cpus, light_cpus = int(HEAVY_CPUS * scale * 1000) / 1000, int(LIGHT_CPUS * scale * 10000) / 10000
    if heavy_cpus < SMALLEST_HEAVY_CPUS or light_cpus <= 0:
        raise VistaError(f"vista serve --ray: {replicas} replica(s) of {heavy + light} tools need {wanted:g} CPUs and "
                         f"Ray has {free_cpus:g} free; lower --replicas, serve fewer tools (--tools) or add machines")
    return heavy_cpus, light_cpus


def deploy_tools(names: list[str], *, plugins: str | None, config: ServeConfig, replicas: int = 1,
                 num_gpus: float = 0.0, verbose: bool = True) -> RayToolService:
    """Deploy each tool as a Ray Serve application (Ray must be initialised or reachable) and return the gateway
    service. Heavy (batching) tools ask for ``num_gpus`` per replica; the CPUs of every replica are sized to what
    the cluster has free (`replica_cpus`)."""
    import ray
    from ray import serve

    from ..plugins import load_plugins

    registry = load_plugins(plugins)
    tools = {name: registry.tool(name) for name in names}
    heavy = sum(tool.supports_batching for tool in tools.values())
    free = ray.available_resources()
    if num_gpus and heavy and num_gpus * replicas * heavy > free.get("GPU", 0):
        raise VistaError(f"vista serve --ray: {replicas} replica(s) of {heavy} model tools at --num-gpus {num_gpus:g} "
                         f"need {num_gpus * replicas * heavy:g} GPUs and Ray has {free.get('GPU', 0):g} free; lower "
                         "--num-gpus or --replicas (0 GPUs: the replicas run on CPUs)")
    heavy_cpus, light_cpus = replica_cpus(free.get("CPU", 0.0), heavy, len(tools) - heavy, replicas)
    if heavy_cpus < HEAVY_CPUS:
        print(f"vista serve --ray: {len(tools)} tools x {replicas} replica(s) on {free.get('CPU', 0):g} free CPUs: "
              f"{heavy_cpus:g} CPU per model-tool replica, {light_cpus:g} per light one", file=sys.stderr, flush=True)
    replica = _replica_class()
    serve.start(proxy_location="Disabled")  # the gateway is our own FastAPI app; no second HTTP port
    if not verbose:  # a line per deployment otherwise ("Connecting to existing Serve app", "... is ready")
        logging.getLogger("ray.serve").setLevel(logging.WARNING)
    handles = {}
    for name, tool in tools.items():
        options = {"num_gpus": num_gpus, "num_cpus": heavy_cpus} if tool.supports_batching else {"num_cpus": light_cpus}
        app = replica.options(name=f"tool_{name}", num_replicas=replicas, ray_actor_options=options).bind(
            name, plugins, config.for_tool(name, "max_batch_size"), config.for_tool(name, "max_wait_ms") / 1000,
            config.max_image_pixels)
        handles[name] = serve.run(app, name=f"vista_{name}", route_prefix=None)
    return RayToolService(tools, handles, config)


def serve_with_ray(names: list[str], *, plugins: str | None, config: ServeConfig, replicas: int = 1,
                   num_gpus: float = 0.0, verbose: bool = False) -> None:
    """Start or join Ray, deploy the tools and serve the gateway until SIGINT/SIGTERM. The replicas' logs stay in
    Ray's log folder unless ``verbose``."""
    import ray

    from .server import serve

    ray.init(ignore_reinit_error=True, log_to_driver=verbose, include_dashboard=verbose or None)
    serve(deploy_tools(names, plugins=plugins, config=config, replicas=replicas, num_gpus=num_gpus, verbose=verbose))
