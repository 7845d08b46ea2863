"""The transport-independent tool service: a call's way from admission to its encoded result (validation, slots,
deadlines, threads, metrics), with admission control (`vista.serve.admission`) and dynamic batching
(`vista.serve.batching`) in their own modules. The FastAPI server and the Ray Serve deployments both call it, so a
call is judged the same everywhere.

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
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PIL import Image

from ..execution import CallScope, arun_validated, run_validated, timeout_result
from ..protocol import ToolCall
from ..tool import Tool, ToolArguments, ToolContext, ToolResult
from ..validation import validate_call
from .admission import Admission
from .batching import DynamicBatcher, UndecodedImages
from .config import ServeConfig
from .metrics import ServeMetrics
from .wire import RequestRejected, batch_calls, call_fields, decode_images, parse_json, result_json

INLINE_MAX_BODY = 64 * 1024
"""Largest call body parsed and validated on the event loop (a light tool's call, or a batching tool's call before
it joins a batch); a larger one, whose JSON takes longer to parse than a thread hop costs, goes to a worker thread."""


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
        self.admission = Admission(self.tools, self.config, self.metrics)
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._batchers: dict[str, DynamicBatcher] = {}
        self._scopes: set[CallScope] = set()
        self.stopping: asyncio.Future | None = None  # done once the server has stopped answering calls

    # -- tools ------------------------------------------------------------------------------------------------

    def specs(self) -> list[dict[str, Any]]:
        return [{"name": t.name, "family": t.family, "description": t.description, "schema": t.argument_schema(),
                 "output_schema": t.output_schema(), "batching": t.supports_batching,
                 "task_argument": t.task_argument}
                for t in sorted(self.tools.values(), key=lambda t: t.name)]

    def _runs_on_loop(self, tool: Tool) -> bool:
        """In process, declared ``blocking = False``, neither batching nor async (see the module docstring)."""
        return (tool.blocking is False and not tool.supports_batching and not hasattr(tool, "arun")
                and type(self)._run is ToolService._run)

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
        capacity = self.admission.capacity(name)
        if len(calls) > capacity:  # could never be admitted whole: not a case for retrying later
            raise RequestRejected(f"a batch of {len(calls)} calls exceeds the {capacity} places of tool '{name}' "
                                  "(its concurrency + max_queue); split it", 413)
        with self.admission.admitted(name, max(len(calls) - 1, 0), batch=len(calls)):
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
        with self.admission.admitted(name):
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


def _call_soon(loop: asyncio.AbstractEventLoop, callback) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop is closed: the server is gone, and its slots with it
        pass
