"""The transport-independent tool service: validation, admission control, dynamic batching, timeouts, metrics.
The FastAPI server and the Ray Serve deployments both call it, so a call is judged the same everywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image

from ..errors import VistaError
from ..execution import arun_validated, run_validated, run_validated_batch, timeout_result
from ..protocol import ToolCall
from ..tool import Tool, ToolArguments, ToolContext, ToolResult
from ..validation import validate_call
from .config import ServeConfig
from .metrics import ServeMetrics


class Overloaded(VistaError):
    def __init__(self, tool: str, retry_after_s: int):
        super().__init__(f"tool '{tool}' is at capacity; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class DynamicBatcher:
    """Groups concurrent calls of one tool into `run_batch` calls: up to ``max_batch_size`` per batch, the first
    call waiting at most ``max_wait_s`` for companions. One batch runs at a time (the model is resident once)."""

    def __init__(self, tool: Tool, max_batch_size: int, max_wait_s: float, pool: ThreadPoolExecutor,
                 metrics: ServeMetrics):
        self.tool, self.max_batch_size, self.max_wait_s = tool, max_batch_size, max_wait_s
        self.pool, self.metrics = pool, metrics
        self.queue: asyncio.Queue | None = None
        self.worker: asyncio.Task | None = None

    async def submit(self, arguments: ToolArguments, ctx: ToolContext) -> ToolResult:
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.worker = asyncio.create_task(self._work())
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((arguments, ctx, future))
        return await future

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            deadline = loop.time() + self.max_wait_s
            while len(batch) < self.max_batch_size:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            batch = [item for item in batch if not item[2].cancelled()]
            if not batch:
                continue
            self.metrics.batch_size.labels(self.tool.name).observe(len(batch))
            results = await loop.run_in_executor(self.pool, run_validated_batch, self.tool,
                                                 [(args, ctx) for args, ctx, _ in batch])
            for (_, _, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)


class ToolService:
    def __init__(self, tools: Mapping[str, Tool], config: ServeConfig | None = None,
                 metrics: ServeMetrics | None = None):
        self.tools = dict(tools)
        self.config = (config or ServeConfig()).validate()
        self.metrics = metrics or ServeMetrics()
        self.pool = ThreadPoolExecutor(max_workers=max(4, self.config.concurrency * len(self.tools) or 4),
                                       thread_name_prefix="vista-serve")
        self._inflight: dict[str, int] = {}
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._batchers: dict[str, DynamicBatcher] = {}

    def specs(self) -> list[dict[str, Any]]:
        return [{"name": t.name, "family": t.family, "description": t.description, "schema": t.argument_schema(),
                 "output_schema": t.output_schema(), "batching": t.supports_batching,
                 "task_argument": t.task_argument}
                for t in sorted(self.tools.values(), key=lambda t: t.name)]

    def room(self, name: str) -> int:
        """How many more calls of ``name`` would be admitted now."""
        capacity = self.config.for_tool(name, "concurrency") + self.config.for_tool(name, "max_queue")
        return capacity - self._inflight.get(name, 0)

    def _admit(self, name: str) -> None:
        capacity = self.config.for_tool(name, "concurrency") + self.config.for_tool(name, "max_queue")
        if self._inflight.get(name, 0) >= capacity:
            self.metrics.rejected.labels(name).inc()
            raise Overloaded(name, self.config.retry_after_s)
        self._inflight[name] = self._inflight.get(name, 0) + 1
        self.metrics.queue_depth.labels(name).set(self._inflight[name])

    def _release(self, name: str) -> None:
        self._inflight[name] -= 1
        self.metrics.queue_depth.labels(name).set(self._inflight[name])

    async def call(self, name: str, arguments: dict[str, Any], images: Mapping[str, Image.Image]) -> ToolResult:
        """Validate and run one call. Raises `Overloaded` when the tool's queue is full; everything else is a
        ToolResult (classified errors included)."""
        start = time.perf_counter()
        validated, error = validate_call(ToolCall(name=name, arguments=arguments), self.tools)
        if error is not None:
            result = ToolResult.failure(name, error)
        else:
            self._admit(name)
            try:
                result = await self._run(validated.tool, validated.arguments, ToolContext(dict(images)))
            finally:
                self._release(name)
        # unknown names share one label: a client must not be able to mint metric series at will
        self.metrics.observe(name if name in self.tools else "(unknown)", result, time.perf_counter() - start)
        return result

    async def _run(self, tool: Tool, arguments: ToolArguments, ctx: ToolContext) -> ToolResult:
        """Execute one admitted, validated call (overridden by the Ray gateway to forward it to a replica)."""
        timeout = self.config.for_tool(tool.name, "timeout_s")
        try:
            if tool.supports_batching:
                batcher = self._batchers.get(tool.name)
                if batcher is None:
                    batcher = self._batchers[tool.name] = DynamicBatcher(
                        tool, self.config.for_tool(tool.name, "max_batch_size"),
                        self.config.for_tool(tool.name, "max_wait_ms") / 1000, self.pool, self.metrics)
                return await asyncio.wait_for(batcher.submit(arguments, ctx), timeout)
            sem = self._sems.setdefault(tool.name, asyncio.Semaphore(self.config.for_tool(tool.name, "concurrency")))
            async with sem:
                if hasattr(tool, "arun"):
                    return await asyncio.wait_for(arun_validated(tool, arguments, ctx), timeout)
                loop = asyncio.get_running_loop()
                return await asyncio.wait_for(loop.run_in_executor(self.pool, run_validated, tool, arguments, ctx),
                                              timeout)
        except asyncio.TimeoutError:
            return timeout_result(tool.name, timeout)

    def close(self) -> None:
        for batcher in self._batchers.values():
            if batcher.worker is not None:
                batcher.worker.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)
