"""Dynamic batching of one tool's calls: concurrent calls grouped into `Tool.run_batch` calls, one batch at a time,
each in a worker thread, with the calls' images decoded in the batch's thread."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ..execution import run_validated_batch
from ..tool import Tool, ToolArguments, ToolContext, ToolResult
from .metrics import ServeMetrics
from .wire import RequestRejected, decode_images


class UndecodedImages:
    """A call's images as they came (base64), to be decoded where the call runs."""

    def __init__(self, images: dict[str, str], where: str):
        self.images, self.where = images, where


class DynamicBatcher:
    """Groups concurrent calls of one tool into `run_batch` calls, one batch at a time (the model is resident once),
    each run in a worker thread so the event loop keeps receiving calls meanwhile. Calls that arrive while a batch
    runs queue up and form the next batch, up to ``max_batch_size``: the batch size follows the load. A batch waits
    at most ``max_wait_s`` to grow to the size of the previous one, whose callers are likely on their way back (at
    32 clients, without it, a batch of 32 was followed by one of the 5 that came meanwhile, then one of 27); after a
    batch of one, a call runs at once, alone, so a lone client never waits. The images of a call are decoded with
    its batch, in the batch's thread. A call whose caller stopped waiting (deadline, disconnect) before its batch
    started is left out."""

    def __init__(self, tool: Tool, max_batch_size: int, max_wait_s: float, pool: ThreadPoolExecutor,
                 metrics: ServeMetrics, max_pixels: int):
        self.tool, self.max_batch_size, self.max_wait_s = tool, max_batch_size, max_wait_s
        self.pool, self.metrics, self.max_pixels = pool, metrics, max_pixels
        self.pending: deque[tuple[ToolArguments, ToolContext | UndecodedImages, asyncio.Future]] = deque()
        self.last_size = 1
        self.arrived = asyncio.Event()  # bound to the running loop at its first wait (Python >= 3.10)
        self.worker: asyncio.Task | None = None

    async def submit(self, arguments: ToolArguments, ctx: ToolContext | UndecodedImages) -> ToolResult:
        """The call's result; `RequestRejected` when its images (``UndecodedImages``, decoded with the batch, in its
        thread) are not decodable or too large."""
        if self.worker is None:
            self.worker = asyncio.create_task(self._work())
        future = asyncio.get_running_loop().create_future()
        self.pending.append((arguments, ctx, future))
        self.arrived.set()
        return await future

    async def _next_batch(self) -> list:
        while not self.pending:
            self.arrived.clear()
            await self.arrived.wait()
        # the callers of the last batch are the likeliest companions: wait (at most max_wait_s) for as many calls
        # as it had, so a batch of 32 is not followed by one of the 5 that came meanwhile, then one of 27
        target = min(self.last_size, self.max_batch_size)
        if self.max_wait_s > 0 and len(self.pending) < target:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.max_wait_s):
                    while len(self.pending) < target:
                        self.arrived.clear()
                        await self.arrived.wait()
        count = min(len(self.pending), self.max_batch_size)
        self.last_size = count
        return [item for item in (self.pending.popleft() for _ in range(count)) if not item[2].done()]

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            if not batch:
                continue
            self.metrics.batch_size.labels(self.tool.name).observe(len(batch))
            outcomes = await loop.run_in_executor(self.pool, self._run_batch, [(a, c) for a, c, _ in batch])
            for (_, _, future), outcome in zip(batch, outcomes):
                if future.done():
                    continue
                if isinstance(outcome, RequestRejected):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def _run_batch(self, calls: list[tuple[ToolArguments, ToolContext | UndecodedImages]]) -> list:
        """In the batch's thread: decode the calls' images (a call whose images fail gets its `RequestRejected`),
        then one `run_batch` for the rest."""
        outcomes: list = [None] * len(calls)
        ready = []
        for i, (arguments, ctx) in enumerate(calls):
            if isinstance(ctx, UndecodedImages):
                try:
                    ctx = ToolContext(decode_images(ctx.images, self.max_pixels, ctx.where))
                except RequestRejected as exc:
                    outcomes[i] = exc
                    continue
            ready.append((i, arguments, ctx))
        results = run_validated_batch(self.tool, [(a, c) for _, a, c in ready]) if ready else []
        for (i, _, _), result in zip(ready, results):
            outcomes[i] = result
        return outcomes
