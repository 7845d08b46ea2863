"""The transport-independent tool service: validation, admission control, dynamic batching, deadlines, metrics.
The FastAPI server and the Ray Serve deployments both call it, so a call is judged the same everywhere.

A call's life: the server admits it (a place in its tool's queue, and its body's bytes in the server's budget)
before reading its body; its deadline runs from its arrival, so time in the queue counts; it waits for one of the
tool's `concurrency` slots; then one hop to a worker thread parses, validates, decodes its images, runs the tool and
encodes the result, so the event loop only moves bytes. A slot is given back when the thread is done, not when the
caller stops waiting: a tool that hangs holds its own slots and no others, and the threads stay bounded. A call
given up on (past its deadline, client gone, shutdown) has its `CallScope` cancelled, which stops the tools that
work in child processes (the sympy workers, `python_exec`) at once.

Admission follows the tool's kind (`Tool.blocking`). A model tool (declared ``blocking = True``, or undeclared and
batching or async) may keep its callers waiting for long, so its queue is short: `concurrency` + `max_queue` calls,
then 503 + Retry-After, and a caller retries rather than waits out its deadline. A light tool (any other) gets
`ServeConfig.light_capacity` places: a quick tool must not be refused because a model would be slow.

Where a thread hop costs more than the work it moves (90-180 µs, against about 40 µs to parse, validate and encode
a small call; `bench/serve_load.py --profile`), the work stays on the event loop:

- a light tool that declares ``blocking = False`` (it returns in microseconds and never waits: arithmetic, a
  lookup) runs there entirely, parse to encoded result, when its call has no images and a small body
  (`INLINE_MAX_BODY`); it holds no slot and no thread. An undeclared light tool never runs there (nothing promises
  that it is quick): its calls take one hop each, `concurrency` at a time;
- a batching tool's call (a small body) is parsed and validated there, its images are decoded with its batch in the
  batch's thread, and a result without images is encoded on the loop: the batch is the one hop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from PIL import Image

from ..errors import VistaError
from ..execution import CallScope, arun_validated, run_validated, run_validated_batch, timeout_result
from ..protocol import ToolCall
from ..tool import Tool, ToolArguments, ToolContext, ToolResult
from ..validation import validate_call
from .config import ServeConfig
from .metrics import ServeMetrics
from .wire import RequestRejected, batch_calls, call_fields, decode_images, parse_json, result_json

INLINE_MAX_BODY = 64 * 1024
"""Largest call body parsed and validated on the event loop (a light tool's call, or a batching tool's call before
it joins a batch); a larger one, whose JSON takes longer to parse than a thread hop costs, goes to a worker thread."""


class Overloaded(VistaError):
    def __init__(self, tool: str, retry_after_s: int, message: str | None = None):
        super().__init__(message or f"tool '{tool}' is at capacity; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class ShuttingDown(VistaError):
    """The server stopped before the call finished (SIGTERM): 503, retry on another replica or after restart."""


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
        self.pending: deque[tuple[ToolArguments, ToolContext, asyncio.Future]] = deque()
        self.last_size = 1
        self.arrived: asyncio.Event | None = None
        self.worker: asyncio.Task | None = None

    async def submit(self, arguments: ToolArguments, ctx: ToolContext | UndecodedImages) -> ToolResult:
        """The call's result; `RequestRejected` when its images (``UndecodedImages``, decoded with the batch, in its
        thread) are not decodable or too large."""
        if self.worker is None:
            self.arrived = asyncio.Event()
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


class ToolService:
    def __init__(self, tools: Mapping[str, Tool], config: ServeConfig | None = None,
                 metrics: ServeMetrics | None = None):
        self.tools = dict(tools)
        self.config = (config or ServeConfig()).validate()
        self.metrics = metrics or ServeMetrics()
        # threads: each tool's running calls (bounded by its slots), one batch per batching tool, and a few for
        # parsing batch bodies; created on demand
        threads = sum(self.config.for_tool(name, "concurrency") for name in self.tools)
        threads += sum(1 for tool in self.tools.values() if tool.supports_batching) + 4
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vista-serve")
        self._on_loop = {name for name, tool in self.tools.items() if self._runs_on_loop(tool)}
        self._model = {name for name, tool in self.tools.items() if _model_tool(tool)}
        self._inflight: dict[str, int] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._batchers: dict[str, DynamicBatcher] = {}
        self._scopes: set[CallScope] = set()
        self.body_bytes = 0  # bytes of request bodies admitted now: being received, or their calls in progress
        self.stopping: asyncio.Future | None = None  # done once the server has stopped answering calls

    # -- admission ------------------------------------------------------------------------------------------------

    def specs(self) -> list[dict[str, Any]]:
        return [{"name": t.name, "family": t.family, "description": t.description, "schema": t.argument_schema(),
                 "output_schema": t.output_schema(), "batching": t.supports_batching,
                 "task_argument": t.task_argument}
                for t in sorted(self.tools.values(), key=lambda t: t.name)]

    def _runs_on_loop(self, tool: Tool) -> bool:
        """In process, declared ``blocking = False``, neither batching nor async (see the module docstring)."""
        return (tool.blocking is False and not tool.supports_batching and not hasattr(tool, "arun")
                and type(self)._run is ToolService._run)

    def capacity(self, name: str) -> int:
        """Calls of ``name`` admitted at once: `concurrency` + `max_queue` for a model tool, `light_capacity` for a
        light tool (unless the tool's own `concurrency` or `max_queue` is set in `per_tool`)."""
        own = self.config.per_tool.get(name, {})
        if name not in self._model and "concurrency" not in own and "max_queue" not in own:
            return self.config.light_capacity
        return self.config.for_tool(name, "concurrency") + self.config.for_tool(name, "max_queue")

    def room(self, name: str) -> int:
        """How many more calls of ``name`` would be admitted now."""
        return self.capacity(name) - self._inflight.get(name, 0)

    def admit(self, name: str, count: int = 1, batch: int | None = None) -> None:
        """Count ``count`` calls of ``name`` against its queue, all or none; `Overloaded` when they do not fit
        (``batch``: the size of the batch they belong to, for the message)."""
        if count > self.room(name):
            self.metrics.rejected.labels(name).inc(count)
            if batch is None:
                raise Overloaded(name, self.config.retry_after_s)
            raise Overloaded(name, self.config.retry_after_s,
                             f"a batch of {batch} calls does not fit the free places of tool '{name}'; "
                             f"retry after {self.config.retry_after_s} s or split the batch")
        self._inflight[name] = self._inflight.get(name, 0) + count
        self.metrics.queue_depth.labels(name).set(self._inflight[name])

    def release(self, name: str, count: int = 1) -> None:
        self._inflight[name] -= count
        self.metrics.queue_depth.labels(name).set(self._inflight[name])

    @contextmanager
    def admitted(self, name: str, count: int = 1, batch: int | None = None):
        self.admit(name, count, batch)
        try:
            yield
        finally:
            self.release(name, count)

    def take_bytes(self, count: int) -> None:
        """Reserve ``count`` bytes of the server's body budget (`max_inflight_bytes`); `Overloaded` when full."""
        if self.body_bytes + count > self.config.max_inflight_bytes:
            raise Overloaded("(server)", self.config.retry_after_s,
                             f"the server is already receiving or working on {self.body_bytes} bytes of requests "
                             f"(limit {self.config.max_inflight_bytes}); retry after {self.config.retry_after_s} s")
        self.body_bytes += count

    def give_bytes(self, count: int) -> None:
        self.body_bytes -= count

    # -- calls ----------------------------------------------------------------------------------------------------

    def deadline(self, name: str, arrival: float) -> float:
        """When a call of ``name`` that arrived at ``arrival`` (time.monotonic) must be answered."""
        return arrival + self.config.for_tool(name, "timeout_s")

    def unknown_tool(self, name: str) -> bytes:
        """The E1 result for a call to a tool this server does not have (no body needed to say so)."""
        _, error = validate_call(ToolCall(name=name, arguments={}), self.tools)
        result = ToolResult.failure(name, error)
        self.metrics.observe("(unknown)", result, 0.0)  # one label: a client must not mint metric series at will
        return result_json(result)

    async def call_body(self, name: str, body: list[bytes | bytearray], arrival: float) -> bytes:
        """Answer one admitted call whose raw JSON body is ``body[0]`` (handed over: the parsing thread drops it
        as soon as it is parsed). Returns the ToolResult as JSON bytes; raises `RequestRejected` for a body the
        client must fix. Classified errors (E2-E5, timeouts) are results, as in process."""
        return await self._one(self.tools[name], body, self.deadline(name, arrival), "")

    async def batch_body(self, name: str, body: list[bytes | bytearray], arrival: float) -> bytes:
        """Answer a batch whose first call is admitted already: parsed off the event loop, its size checked, the
        other calls admitted all or none, then each run like a single call. Returns ``{"results": [...]}`` bytes."""
        tool = self.tools[name]
        deadline = self.deadline(name, arrival)
        calls = await self._in_thread(self._parse_batch, body)
        capacity = self.capacity(name)
        if len(calls) > capacity:  # could never be admitted whole: not a case for retrying later
            raise RequestRejected(f"a batch of {len(calls)} calls exceeds the {capacity} places of tool '{name}' "
                                  "(its concurrency + max_queue); split it", 413)
        with self.admitted(name, max(len(calls) - 1, 0), batch=len(calls)):
            tasks = [asyncio.ensure_future(self._one(tool, [call], deadline, f" of calls[{i}]"))
                     for i, call in enumerate(calls)]
            del calls
            try:
                results = await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        return b'{"results":[' + b",".join(results) + b"]}"

    def call_now(self, name: str, body: list[bytes | bytearray]) -> bytes | None:
        """Answer one admitted call of a tool declared ``blocking = False`` on the calling thread (the event loop),
        parse to encoded result, or return None when it needs a worker thread after all (images to decode, a large
        body): then ``body[0]`` holds what has been parsed so far, for `call_body`. Raises `RequestRejected` as
        `call_body` does."""
        if name not in self._on_loop or len(body[0]) > INLINE_MAX_BODY:
            return None
        data = parse_json(body[0], self.config.max_json_values)
        arguments, images = call_fields(data)
        if images:
            body[0] = data
            return None
        tool, start = self.tools[name], time.monotonic()
        prepared = self._prepare(tool, (arguments, {}), "", False, start)
        if not isinstance(prepared, tuple):
            return result_json(prepared)
        return self._finish(tool, run_validated(tool, *prepared), True, start)

    def _parse_batch(self, body: list) -> list[Any]:
        return batch_calls(parse_json(body.pop(), self.config.max_json_values), self.config.max_batch_calls)

    async def call(self, name: str, arguments: dict[str, Any], images: Mapping[str, Image.Image]) -> ToolResult:
        """Validate and run one call given as Python objects (images decoded): admission, deadline and metrics as
        over HTTP. Raises `Overloaded` when the tool's queue is full."""
        if name not in self.tools:
            _, error = validate_call(ToolCall(name=name, arguments=arguments), self.tools)
            return ToolResult.failure(name, error)
        with self.admitted(name):
            return await self._one(self.tools[name], (arguments, dict(images)), self.deadline(name, time.monotonic()),
                                   "", raw=False)

    async def _one(self, tool: Tool, call: Any, deadline: float, where: str, raw: bool = True) -> Any:
        """Run one admitted call within its deadline; a call given up on is cancelled (its scope)."""
        scope = CallScope(deadline)
        self._scopes.add(scope)
        start = time.monotonic()
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                return await self._execute(tool, call, scope, where, raw)
        except TimeoutError:
            scope.cancel()
            result = timeout_result(tool.name, self.config.for_tool(tool.name, "timeout_s"))
            self.metrics.observe(tool.name, result, time.monotonic() - start)
            return result_json(result) if raw else result
        except BaseException:
            scope.cancel()
            raise
        finally:
            self._scopes.discard(scope)

    def _fast(self, tool: Tool) -> bool:
        """Whether a call runs entirely in one thread hop: an in-process tool without `arun` or `run_batch`."""
        return not tool.supports_batching and not hasattr(tool, "arun") and type(self)._run is ToolService._run

    async def _execute(self, tool: Tool, call: Any, scope: CallScope, where: str, raw: bool) -> Any:
        start = time.monotonic()
        slot = self._slot(tool.name)
        await slot.acquire()
        if self._fast(tool):
            return await self._in_thread(self._work, tool, call, scope, where, raw, start, slot=slot)
        # a batching tool waits in its batcher without a slot (the batcher runs one batch at a time, and slots
        # would cap the batch size); remote tools and Ray replicas run under theirs
        batched = tool.supports_batching and type(self)._run is ToolService._run
        try:
            # a batching tool's images are decoded with its batch, in the batch's thread
            prepared = await self._prepared(tool, call, where, raw, start, decode=not batched)
            if not isinstance(prepared, tuple):
                return prepared  # a validation error, as a result
            result = None if batched else await self._run(tool, *prepared)
        finally:
            slot.release()
        if batched:
            result = await self._batcher(tool).submit(*prepared)
        del prepared
        if not result.images:  # a few fields to encode: cheaper here than a hop
            return self._finish(tool, result, raw, start)
        return await self._in_thread(self._finish, tool, result, raw, start)

    async def _prepared(self, tool: Tool, call: Any, where: str, raw: bool, start: float, decode: bool) -> Any:
        """`_prepare` on the event loop when that is cheaper than a thread hop (a small body, and images left to
        decode elsewhere or none), else in a worker thread."""
        if raw and isinstance(call[0], (bytes, bytearray)) and len(call[0]) <= INLINE_MAX_BODY:
            call[0] = parse_json(call[0], self.config.max_json_values)
            if not decode or not (isinstance(call[0], dict) and call[0].get("images")):
                return self._prepare(tool, call, where, raw, start, decode)
        return await self._in_thread(self._prepare, tool, call, where, raw, start, decode)

    def _batcher(self, tool: Tool) -> DynamicBatcher:
        batcher = self._batchers.get(tool.name)
        if batcher is None:
            batcher = self._batchers[tool.name] = DynamicBatcher(
                tool, self.config.for_tool(tool.name, "max_batch_size"),
                self.config.for_tool(tool.name, "max_wait_ms") / 1000, self.pool, self.metrics,
                self.config.max_image_pixels)
        return batcher

    def _slot(self, name: str) -> asyncio.Semaphore:
        slot = self._slots.get(name)
        if slot is None:
            slot = self._slots[name] = asyncio.Semaphore(self.config.for_tool(name, "concurrency"))
        return slot

    async def _in_thread(self, fn, *args, slot: asyncio.Semaphore | None = None) -> Any:
        """``fn(*args)`` in the pool. With ``slot``, the slot is given back when the thread is done, even if the
        caller stopped waiting: a thread cannot be stopped, and a slot must not be reused while it runs."""
        future: Future = self.pool.submit(fn, *args)
        if slot is not None:
            loop = asyncio.get_running_loop()
            future.add_done_callback(lambda _: _call_soon(loop, slot.release))
        return await asyncio.wrap_future(future)

    def _work(self, tool: Tool, call: Any, scope: CallScope, where: str, raw: bool, start: float) -> Any:
        """The one hop of an in-process call: parse, validate, decode, run, encode."""
        prepared = self._prepare(tool, call, where, raw, start)
        if not isinstance(prepared, tuple):
            return prepared
        if scope.cancelled:  # given up on while it waited for this thread: nobody will read the result
            return b"" if raw else None
        arguments, ctx = prepared
        del prepared
        return self._finish(tool, run_validated(tool, arguments, ctx, scope=scope), raw, start)

    def _prepare(self, tool: Tool, call: Any, where: str, raw: bool, start: float, decode: bool = True) -> Any:
        """(arguments, context) of a valid call, or its validation error as a finished result; with ``decode``
        False, the context is its images still `UndecodedImages`."""
        if raw:
            body = call.pop()
            if isinstance(body, (bytes, bytearray)):
                body = parse_json(body, self.config.max_json_values)
            arguments, images = call_fields(body, "the call" + where if where else "the request body")
            del body
        else:
            arguments, images = call
        try:
            validated, error = validate_call(ToolCall(name=tool.name, arguments=arguments), self.tools)
        except Exception as exc:  # validation must never fail, but a request must never become a 500 either
            raise RequestRejected(f"the arguments{where} could not be checked ({type(exc).__name__}: {exc}); "
                                  "send plain JSON values, nested less deeply", 422) from None
        if error is not None:
            return self._finish(tool, ToolResult.failure(tool.name, error), raw, start)
        if raw and not decode:
            return validated.arguments, UndecodedImages(images, where)
        if raw:
            decoded = decode_images(images, self.config.max_image_pixels, where)
            images.clear()  # the base64 text: no longer needed while the tool runs
            images = decoded
        return validated.arguments, ToolContext(images)

    def _finish(self, tool: Tool, result: ToolResult, raw: bool, start: float) -> Any:
        self.metrics.observe(tool.name, result, time.monotonic() - start)
        return result_json(result) if raw else result

    async def _run(self, tool: Tool, arguments: ToolArguments, ctx: ToolContext) -> ToolResult:
        """Execute one validated call that is neither a plain in-process one nor batched (a remote tool);
        overridden by the Ray gateway to forward every call to a replica. Runs within the caller's deadline."""
        if hasattr(tool, "arun"):
            return await arun_validated(tool, arguments, ctx)
        return await self._in_thread(run_validated, tool, arguments, ctx)

    # -- shutdown -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Called on the server's event loop before it serves."""
        self.stopping = asyncio.get_running_loop().create_future()

    def stop_calls(self) -> None:
        """Stop answering: each request in progress answers 503 and cancels its calls (their scopes, so their child
        processes are killed). Their results are not waited for: one that came back first would be a 200."""
        if self.stopping is not None and not self.stopping.done():
            self.stopping.set_result(None)

    def close(self) -> None:
        self.stop_calls()
        for scope in list(self._scopes):  # calls without a request (the Python API) or missed by it
            scope.cancel()
        for batcher in self._batchers.values():
            if batcher.worker is not None:
                batcher.worker.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)


def _model_tool(tool: Tool) -> bool:
    """Whether ``tool`` is admitted as a model tool: declared ``blocking = True``, or undeclared and batching or
    async, the shapes of model-backed and remote tools (`Tool.blocking`)."""
    if tool.blocking is None:
        return tool.supports_batching or hasattr(tool, "arun")
    return tool.blocking


def _call_soon(loop: asyncio.AbstractEventLoop, callback) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop is closed: the server is gone, and its slots with it
        pass
