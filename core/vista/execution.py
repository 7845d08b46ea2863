"""Executing tool calls. One validated call (`run_validated`, `arun_validated`, `run_validated_batch`): E4 from the
tool's own checks, E5 from its output schema, failures as error results; nothing a tool does escapes as an exception:
a crash becomes a TOOL_FAILURE result the policy can read. Many calls (`ToolExecutor`): per-tool concurrency limits
and timeouts, synchronously or in asyncio.

CPU tools run in a thread pool (their heavy work — numpy, torch, onnxruntime — releases the GIL); tools with an
`arun` coroutine (remote tools) are awaited directly. A call that exceeds its timeout becomes a TOOL_FAILURE result:
the episode goes on. Python cannot kill a thread, so a timed-out local call finishes in the background; tools that may
hang for good belong behind the tool server (`vista serve`) or in a subprocess of their own (as `python_exec`
and the calculator do): a hung thread keeps its worker, though its concurrency slot is given back.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import jsonschema
from pydantic import BaseModel

from .errors import ClassifiedError, ErrorClass, ToolArgumentError, ToolUnavailableError
from .images import ImageLike
from .protocol import ToolCall
from .tool import Tool, ToolArguments, ToolContext, ToolResult
from .validation import ValidatedCall, validate_call


class CallScope:
    """The time limit and the cancellation of one call, visible to the tool code running it (`current_scope()`).

    Python cannot stop a thread, so a call that is abandoned (past its time limit, its client gone, the server
    shutting down) is stopped cooperatively: a tool that delegates work to a child process (the sympy workers,
    `python_exec`) gives that work no more than `remaining()` and kills the child when the scope is cancelled.
    Tools that ignore the scope run as before."""

    def __init__(self, deadline: float | None = None):
        self.deadline = deadline  # time.monotonic() seconds, or None for no limit
        self.cancelled = False
        self._callbacks: list[Callable[[], Any]] = []
        self._lock = threading.Lock()

    @classmethod
    def within(cls, seconds: float | None) -> CallScope:
        return cls(None if seconds is None else time.monotonic() + seconds)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once past), or None without one."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def on_cancel(self, callback: Callable[[], Any]) -> Callable[[], None]:
        """Run ``callback()`` when the scope is cancelled (at once if it already is); returns a function that
        unregisters it. Callbacks run in the cancelling thread, so they must be quick and thread-safe (a kill)."""
        with self._lock:
            if not self.cancelled:
                self._callbacks.append(callback)
                return lambda: self._discard(callback)
        callback()
        return lambda: None

    def _discard(self, callback: Callable[[], Any]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def cancel(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a child already gone: nothing left to stop
                pass


_SCOPE: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar("vista_call_scope", default=None)


def current_scope() -> CallScope | None:
    """The scope of the call this thread is running, when its runner set one (the tool server, `ToolExecutor`)."""
    return _SCOPE.get()


@functools.cache
def _output_validator(model: type[BaseModel]) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(model.model_json_schema())


def _e4(tool: Tool, exc: ToolArgumentError) -> ClassifiedError:
    return ClassifiedError(error_class=ErrorClass.E4, code="invalid_content", tool=tool.name,
                           argument=exc.argument, message=f"call to '{tool.name}': {exc}")


def _failure(tool: Tool, exc: BaseException) -> ClassifiedError:
    if isinstance(exc, ToolUnavailableError):
        return ClassifiedError(error_class=ErrorClass.TOOL_FAILURE, code="unavailable", tool=tool.name,
                               message=f"tool '{tool.name}' is unavailable: {exc}")
    if isinstance(exc, TimeoutError):  # the caller's deadline (`CallScope`) stopped it: the same as a timeout
        return ClassifiedError(error_class=ErrorClass.TOOL_FAILURE, code="timeout", tool=tool.name,
                               message=f"tool '{tool.name}' timed out: {exc}")
    return ClassifiedError(error_class=ErrorClass.TOOL_FAILURE, code="crashed", tool=tool.name,
                           message=f"tool '{tool.name}' failed: {type(exc).__name__}: {exc}")


def timeout_result(tool_name: str, timeout_s: float) -> ToolResult:
    return ToolResult.failure(tool_name, ClassifiedError(
        error_class=ErrorClass.TOOL_FAILURE, code="timeout", tool=tool_name,
        message=f"tool '{tool_name}' did not answer within {timeout_s:g} s; try simpler arguments or another tool"))


def check_output(tool: Tool, result: Any) -> ToolResult:
    """Coerce what `run` returned into a ToolResult and check it against the output schema (E5)."""
    if not isinstance(result, ToolResult):
        error = ClassifiedError(error_class=ErrorClass.E5, code="not_a_result", tool=tool.name,
                                message=f"tool '{tool.name}' returned {type(result).__name__}, not a ToolResult")
        return ToolResult.failure(tool.name, error)
    result.tool = tool.name
    if not result.ok and result.error is None:  # a failure must be classified, or attribution would lose it
        error = ClassifiedError(error_class=ErrorClass.TOOL_FAILURE, code="tool_reported_failure", tool=tool.name,
                                message=f"tool '{tool.name}' failed: {result.text or 'no reason given'}")
        return result.model_copy(update={"error": error, "text": error.message})
    if result.ok and type(tool).Output is not None:
        problems = list(_output_validator(type(tool).Output).iter_errors(_jsonable(result.data)))
        if problems:
            first = problems[0]
            where = "/".join(map(str, first.absolute_path)) or "(root)"
            error = ClassifiedError(error_class=ErrorClass.E5, code="invalid_output", tool=tool.name,
                                    message=f"tool '{tool.name}' produced output that violates its schema at "
                                            f"{where}: {first.message}")
            return result.model_copy(update={"ok": False, "error": error, "text": error.message})
    return result


def _jsonable(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    return data


def _result_of_exception(tool: Tool, exc: Exception) -> ToolResult:
    if isinstance(exc, ToolArgumentError):
        return ToolResult.failure(tool.name, _e4(tool, exc))
    return ToolResult.failure(tool.name, _failure(tool, exc))


def run_validated(tool: Tool, arguments: ToolArguments, ctx: ToolContext, *, name_images: bool = True,
                  scope: CallScope | None = None) -> ToolResult:
    """Run one validated call; every outcome, including a crash, is a ToolResult.

    With ``name_images=False`` the images the tool returned are not added to ``ctx`` yet: a caller that may give up
    on the call (a timeout) adds them with `name_images` once it takes the result, so a call that finishes after
    its timeout cannot add an image the episode never saw and shift the names of later ones. ``scope`` is what
    `current_scope()` returns to the tool while it runs."""
    start = time.perf_counter()
    token = _SCOPE.set(scope) if scope is not None else None
    try:
        result = check_output(tool, tool.run(arguments, ctx))
    except Exception as exc:  # the contract: a crashed tool becomes an error result, never a crashed episode
        result = _result_of_exception(tool, exc)
    finally:
        if token is not None:
            _SCOPE.reset(token)
    result.latency_s = time.perf_counter() - start
    return name_images_in(result, ctx) if name_images else result


def name_images_in(result: ToolResult, ctx: ToolContext) -> ToolResult:
    """Add the images a successful result returned to the episode's context, under the next free names."""
    if result.ok and result.images and not result.image_names:
        result.image_names = [ctx.add_image(image) for image in result.images]
    return result


async def arun_validated(tool: Tool, arguments: ToolArguments, ctx: ToolContext) -> ToolResult:
    """`run_validated` for tools with an `arun` coroutine (remote tools)."""
    start = time.perf_counter()
    try:
        result = check_output(tool, await tool.arun(arguments, ctx))
    except Exception as exc:  # a remote failure is an error result like any other
        result = _result_of_exception(tool, exc)
    return _finish(result, ctx, time.perf_counter() - start)


def run_validated_batch(tool: Tool, batch: Sequence[tuple[ToolArguments, ToolContext]]) -> list[ToolResult]:
    """Run many validated calls to one tool through `run_batch`; if the batch fails, each call runs alone so that
    one bad item cannot fail the others."""
    start = time.perf_counter()
    try:
        raw = tool.run_batch(batch)
        if len(raw) != len(batch):
            raise RuntimeError(f"run_batch returned {len(raw)} results for {len(batch)} calls")
    except Exception:  # isolate the culprit: fall back to one call at a time
        return [run_validated(tool, args, ctx) for args, ctx in batch]
    elapsed = (time.perf_counter() - start) / max(len(batch), 1)
    results = []
    for item, (_, ctx) in zip(raw, batch):
        try:
            results.append(_finish(check_output(tool, item), ctx, elapsed))
        except Exception as exc:  # one unserialisable item fails alone
            results.append(_result_of_exception(tool, exc))
    return results


def _finish(result: ToolResult, ctx: ToolContext, latency_s: float) -> ToolResult:
    result.latency_s = latency_s
    return name_images_in(result, ctx)


def call_tool(name: str, arguments: Mapping[str, Any], images: Sequence[ImageLike] | ToolContext = (),
              tools: Mapping[str, Tool] | None = None) -> ToolResult:
    """Validate, then run one tool by name: the way scripts and notebooks call a tool.

    Returns a ToolResult; a fault of any class E1–E5 (or a tool failure) is in ``result.error``.
    """
    if tools is None:
        from .plugins import get_tools
        tools = get_tools()
    ctx = images if isinstance(images, ToolContext) else ToolContext(images)
    validated, error = validate_call(ToolCall(name=name, arguments=dict(arguments)), tools)
    if error is not None:
        return ToolResult.failure(name, error)
    return run_validated(validated.tool, validated.arguments, ctx)


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
