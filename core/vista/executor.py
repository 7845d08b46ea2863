"""Executing validated tool calls with per-tool concurrency limits and timeouts, synchronously or in asyncio.

CPU tools run in a thread pool (their heavy work — numpy, torch, onnxruntime — releases the GIL); tools with an
`arun` coroutine (remote tools) are awaited directly. A call that exceeds its timeout becomes a TOOL_FAILURE result:
the episode goes on. Python cannot kill a thread, so a timed-out local call finishes in the background; tools that may
hang for good belong behind the tool server (`vista serve`) or in a subprocess of their own (as `python_exec`
and the calculator do): a hung thread keeps its worker, though its concurrency slot is given back.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from .execution import CallScope, arun_validated, name_images_in, run_validated, timeout_result
from .tool import Tool, ToolContext, ToolResult
from .validation import ValidatedCall


class ToolExecutor:
    """Runs calls; at most ``limits.get(tool, default_limit)`` calls of one tool at a time, each within its timeout."""

    def __init__(self, *, max_workers: int | None = None, default_limit: int = 8,
                 limits: Mapping[str, int] | None = None, timeout_s: float = 60.0,
                 timeouts: Mapping[str, float] | None = None):
        if default_limit < 1 or any(v < 1 for v in (limits or {}).values()):
            raise ValueError("tool concurrency limits must be >= 1")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.pool = ThreadPoolExecutor(max_workers=max_workers or min(32, (os.cpu_count() or 1) * 4),
                                       thread_name_prefix="vista-tool")
        self.default_limit = default_limit
        self.limits = dict(limits or {})
        self.timeout_s = timeout_s
        self.timeouts = dict(timeouts or {})
        self._thread_sems: dict[str, threading.BoundedSemaphore] = {}
        self._async_sems: dict[tuple[int, str], asyncio.Semaphore] = {}
        self._guard = threading.Lock()

    def timeout_for(self, tool: Tool) -> float:
        return self.timeouts.get(tool.name, self.timeout_s)

    def _limit(self, name: str) -> int:
        return self.limits.get(name, self.default_limit)

    def run(self, call: ValidatedCall, ctx: ToolContext) -> ToolResult:
        tool = call.tool
        with self._guard:
            sem = self._thread_sems.setdefault(tool.name, threading.BoundedSemaphore(self._limit(tool.name)))
        with sem:
            scope = CallScope.within(self.timeout_for(tool))
            future = self.pool.submit(run_validated, tool, call.arguments, ctx, name_images=False, scope=scope)
            try:
                return name_images_in(future.result(timeout=self.timeout_for(tool)), ctx)
            except FutureTimeout:
                scope.cancel()  # a tool that works in a child process stops it now
                return timeout_result(tool.name, self.timeout_for(tool))

    async def arun(self, call: ValidatedCall, ctx: ToolContext) -> ToolResult:
        tool = call.tool
        loop = asyncio.get_running_loop()
        key = (id(loop), tool.name)
        if key not in self._async_sems:
            self._async_sems[key] = asyncio.Semaphore(self._limit(tool.name))
        async with self._async_sems[key]:
            timeout = self.timeout_for(tool)
            scope = CallScope.within(timeout)
            try:
                if hasattr(tool, "arun"):
                    return await asyncio.wait_for(arun_validated(tool, call.arguments, ctx), timeout)
                result = await asyncio.wait_for(asyncio.wrap_future(
                    self.pool.submit(run_validated, tool, call.arguments, ctx, name_images=False, scope=scope)),
                    timeout)
                return name_images_in(result, ctx)
            except TimeoutError:
                scope.cancel()
                return timeout_result(tool.name, timeout)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

