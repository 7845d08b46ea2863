"""Long-lived child processes that run the sympy work, so that time and memory are bounded for real.

sympy can spend minutes in `solve` or `integrate`, and a Python thread cannot be stopped, so the work runs in child
processes (a pool of up to VISTA_MATH_WORKERS, started lazily, reused across calls) with an address-space limit. A
call that overruns its time limit, or whose caller gave up on it (the tool server's deadline, which counts queue
time, or a cancelled call: `vista.execution.current_scope()`), kills its child; a replacement starts at once in the
background, so the calls after it do not wait behind it. Requests and replies are JSON lines on stdin/stdout.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import subprocess
import sys
import threading
import time
from typing import Any

from vista import ToolArgumentError, ToolUnavailableError
from vista.execution import current_scope

DEFAULT_TIMEOUT_S = float(os.environ.get("VISTA_MATH_TIMEOUT_S", 10.0))
MEMORY_LIMIT_BYTES = int(os.environ.get("VISTA_MATH_MEMORY_MB", 2048)) * 2**20
WORKERS = int(os.environ.get("VISTA_MATH_WORKERS", min(4, os.cpu_count() or 1)))
STARTUP_TIMEOUT_S = 60.0
# a computation is not started with less of its caller's time left than this: it would most likely be killed at the
# deadline, and a killed child costs a restart (a second or more of start-up) that the calls after it may wait for
MIN_START_S = 0.25  # importing sympy on a busy machine; not counted against the policy's time limit


def _serve() -> None:
    from . import algebra  # imported here: the parent never needs sympy
    from .expression import ExpressionError

    operations = {"calculate": algebra.calculate, "solve": algebra.solve, "transform": algebra.transform}
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints from a library must not corrupt the reply stream
    out.write(json.dumps({"ok": True, "ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"ok": True, **operations[request["op"]](**request["args"])}
        except ExpressionError as exc:
            reply = {"ok": False, "kind": "argument", "message": str(exc), "argument": exc.argument}
        except MemoryError:
            reply = {"ok": False, "kind": "argument",
                     "message": f"the computation needed more than {MEMORY_LIMIT_BYTES // 2**20} MiB of memory; "
                                "simplify the expression"}
        except (ValueError, TypeError, ArithmeticError, NotImplementedError, RecursionError) as exc:
            # sympy's way of saying it cannot do this (no algorithm, unsupported form): the policy should rephrase
            reply = {"ok": False, "kind": "argument", "message": f"sympy cannot do this: {type(exc).__name__}: {exc}"}
        except Exception as exc:  # a bug on our side: report it as a tool failure and keep serving
            reply = {"ok": False, "kind": "crash", "message": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


class _Child:
    """One worker process. Not thread-safe by itself: the pool hands it to one call at a time."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._buffer = b""

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> subprocess.Popen:
        if self.alive:
            return self._process
        self.kill()
        self._buffer = b""
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from vista_tools_math.worker import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
            # PYTHONSAFEPATH: the working directory (perhaps the repository root, whose folder vista_tools_math/
            # is the distribution, not the package) must not come first on the child's sys.path
            env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONSAFEPATH": "1"})
        if self._read_line(self._process, STARTUP_TIMEOUT_S) is None:
            self.kill()
            raise ToolUnavailableError(f"the sympy worker process did not start within {STARTUP_TIMEOUT_S:g} s; "
                                       "check that sympy is installed (pip install sympy)")
        return self._process

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def interrupt(self) -> None:
        """Kill the process from another thread (a cancelled call); the owner's read then ends at once."""
        process = self._process
        if process is not None:
            process.kill()

    def call(self, op: str, timeout: float, args: dict[str, Any]) -> bytes:
        """Run one request in the child within ``timeout`` (the pool's own limit, or the time left to the caller's
        scope when that is less) and return the reply line. Past our own limit the expression is the policy's to
        simplify (ToolArgumentError, E4); past the caller's deadline, or cancelled, it is the caller's timeout
        (TimeoutError, a TOOL_FAILURE 'timeout' like the server's own)."""
        scope = current_scope()
        own = timeout
        # a cancelled call (its caller gone, or the server shutting down) kills the child from the cancelling
        # thread; the read below then ends at once
        forget = scope.on_cancel(self.interrupt) if scope is not None else (lambda: None)
        try:
            try:
                if scope is not None and scope.deadline is not None and scope.remaining() < MIN_START_S:
                    raise _Late
                process = self.start()
                if scope is not None and scope.cancelled:
                    raise _Late
                if scope is not None and scope.deadline is not None:  # what is left after the start-up
                    timeout = min(timeout, max(scope.remaining(), 0.0))
                process.stdin.write((json.dumps({"op": op, "args": args}) + "\n").encode())
                line = self._read_line(process, timeout)
            except _Late:  # nothing sent: the child stays, warm, for the next call
                raise _caller_gave_up(scope) from None
            except (BrokenPipeError, ToolUnavailableError) as exc:
                self.kill()
                if scope is not None and scope.cancelled:
                    raise _caller_gave_up(scope) from None
                if isinstance(exc, BrokenPipeError):
                    raise ToolUnavailableError("the sympy worker process exited; the next call starts a new one") \
                        from None
                raise
        finally:
            forget()
        if line is None:
            self.kill()
            if timeout < own:
                raise _caller_gave_up(scope)
            raise ToolArgumentError(f"the computation did not finish within {own:g} s and was stopped; "
                                    "simplify the expression, substitute numbers, or split the problem")
        if scope is not None and scope.cancelled:
            self.kill()  # cancelled just after the reply came: the child may be dying, never hand it on
        return line

    def _read_line(self, process: subprocess.Popen, timeout: float) -> bytes | None:
        """The child's next reply line, or None when none came within ``timeout``."""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                chunk = os.read(process.stdout.fileno(), 1 << 16)
                if not chunk:
                    self.kill()
                    raise ToolUnavailableError(
                        "the sympy worker process exited unexpectedly (out of memory, or it failed to start: run "
                        "`python -c 'from vista_tools_math.worker import _serve'` to see why); the next call "
                        "starts a new one")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line


class _Late(Exception):
    """The caller gave up, or has too little time left to start: the child is not worth its restart."""


def _caller_gave_up(scope) -> TimeoutError:
    if scope.cancelled:
        return TimeoutError("the call was cancelled (its caller stopped waiting) and its computation stopped")
    return TimeoutError("the caller's time limit (which counts time spent queued) ran out before the computation "
                        "finished; retry when the server is less busy, or simplify the expression")


class SympyWorker:
    """The parent's handle on a pool of up to ``size`` children. Thread-safe: concurrent calls run in parallel in
    different children; when all are busy a call waits for one (within its scope's deadline)."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, size: int = WORKERS):
        if size < 1:
            raise ValueError(f"a sympy worker pool needs at least one process, got size={size}")
        self.timeout_s, self.size = timeout_s, size
        self._idle: list[_Child] = []
        self._count = 0  # children made and not dropped: idle, busy or starting
        self._ready = threading.Condition()

    def _acquire(self) -> _Child:
        scope = current_scope()
        with self._ready:
            while True:
                if self._idle:
                    child = self._idle.pop()
                    break
                if self._count < self.size:
                    self._count += 1
                    child = _Child()  # started by its first call, in the caller's thread
                    break
                remaining = scope.remaining() if scope is not None else None
                if scope is not None and (scope.cancelled or (remaining is not None and remaining <= 0)):
                    raise ToolUnavailableError(f"all {self.size} sympy worker processes stayed busy until this "
                                               "call's time limit; retry later")
                self._ready.wait(0.05 if remaining is None else min(remaining, 0.05))
            if not self._idle and self._count < self.size:
                # keep a warm child in reserve while the pool may grow: the next call (one that comes while this
                # one runs, or after it is killed) does not pay the child's start-up (about a second)
                self._count += 1
                threading.Thread(target=self._restart, args=(_Child(),), name="vista-sympy-start",
                                 daemon=True).start()
        return child

    def _give_back(self, child: _Child) -> None:
        if child.alive:
            with self._ready:
                self._idle.append(child)
                self._ready.notify()
            return
        # its child was killed (time limit, cancellation, crash): start the replacement now, off the caller's
        # thread, so that the next call finds a warm process instead of paying sympy's import
        threading.Thread(target=self._restart, args=(child,), name="vista-sympy-restart", daemon=True).start()

    def _restart(self, child: _Child) -> None:
        try:
            child.start()
        except ToolUnavailableError:
            with self._ready:
                self._count -= 1
                self._ready.notify()
            return
        self._give_back(child)

    def stop(self) -> None:
        """Kill every idle child; busy ones are killed when their call ends."""
        with self._ready:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for child in idle:
            child.kill()

    def call(self, op: str, timeout_s: float | None = None, **args: Any) -> dict[str, Any]:
        """Run ``op`` in a child; returns ``{"data", "text"}``. Raises ToolArgumentError for input the policy
        should fix (parse errors, a computation past the time limit) and ToolUnavailableError if the child dies."""
        child = self._acquire()
        try:
            line = child.call(op, timeout_s or self.timeout_s, args)
        finally:
            self._give_back(child)
        reply = json.loads(line)
        if not reply["ok"] and reply["kind"] == "crash":
            raise RuntimeError(f"the sympy worker failed: {reply['message']}")
        if not reply["ok"]:
            raise ToolArgumentError(reply["message"], argument=reply.get("argument"))
        return reply
