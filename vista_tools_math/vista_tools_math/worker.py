"""A long-lived child process that runs the sympy work, so that time and memory are bounded for real.

sympy can spend minutes in `solve` or `integrate`, and a Python thread cannot be stopped, so the work runs in a child
process (started lazily, reused across calls) with an address-space limit; a call that overruns its time limit kills
the child and the next call starts a fresh one. Requests and replies are JSON lines on the child's stdin/stdout.
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

DEFAULT_TIMEOUT_S = float(os.environ.get("VISTA_MATH_TIMEOUT_S", 10.0))
MEMORY_LIMIT_BYTES = int(os.environ.get("VISTA_MATH_MEMORY_MB", 2048)) * 2**20
STARTUP_TIMEOUT_S = 60.0  # importing sympy on a busy machine; not counted against the policy's time limit


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


class SympyWorker:
    """The parent's handle on the child. Thread-safe: calls are serialised, one child per handle."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.timeout_s = timeout_s
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._buffer = b""

    def _start(self) -> subprocess.Popen:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._buffer = b""
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from vista_tools_math.worker import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
            # PYTHONSAFEPATH: the working directory (perhaps the repository root, whose folder vista_tools_math/
            # is the distribution, not the package) must not come first on the child's sys.path
            env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONSAFEPATH": "1"})
        if self._read_line(self._process, STARTUP_TIMEOUT_S) is None:
            self._kill()
            raise ToolUnavailableError(f"the sympy worker process did not start within {STARTUP_TIMEOUT_S:g} s; "
                                       "check that sympy is installed (pip install sympy)")
        return self._process

    def stop(self) -> None:
        with self._lock:
            self._kill()

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def call(self, op: str, timeout_s: float | None = None, **args: Any) -> dict[str, Any]:
        """Run ``op`` in the child; returns ``{"data", "text"}``. Raises ToolArgumentError for input the policy
        should fix (parse errors, a computation past the time limit) and ToolUnavailableError if the child dies."""
        timeout = timeout_s or self.timeout_s
        with self._lock:
            process = self._start()
            try:
                process.stdin.write((json.dumps({"op": op, "args": args}) + "\n").encode())
            except BrokenPipeError:
                self._kill()
                raise ToolUnavailableError("the sympy worker process exited; the next call starts a new one") from None
            line = self._read_line(process, timeout)
            if line is None:
                self._kill()
                raise ToolArgumentError(f"the computation did not finish within {timeout:g} s and was stopped; "
                                        "simplify the expression, substitute numbers, or split the problem")
        reply = json.loads(line)
        if not reply["ok"] and reply["kind"] == "crash":
            raise RuntimeError(f"the sympy worker failed: {reply['message']}")
        if not reply["ok"]:
            raise ToolArgumentError(reply["message"], argument=reply.get("argument"))
        return reply

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
                    self._kill()
                    raise ToolUnavailableError(
                        "the sympy worker process exited unexpectedly (out of memory, or it failed to start: run "
                        "`python -c 'from vista_tools_math.worker import _serve'` to see why); the next call "
                        "starts a new one")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line
