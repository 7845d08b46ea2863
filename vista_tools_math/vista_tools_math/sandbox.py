"""Running policy-written Python in a separate, limited process: the engine behind the `python_exec` tool.

Layers, outermost first (the README's threat model says what each one stops and what it does not):
- a fresh process (`python -I -S`) in a new session, killed as a group at the wall-clock deadline;
- user and network namespaces (`unshare -r -n`: no network interfaces, no device nodes) when the kernel allows;
- rlimits: CPU seconds, address space, file size, open files, processes (see `sandbox_boot.py`);
- a working directory that is a new temporary folder, removed afterwards, and a minimal environment;
- an allowlist audit hook in the child that refuses network, process creation, ctypes, and files outside the folder;
- stdout and stderr read incrementally and cut at a size bound.
"""

from __future__ import annotations

import functools
import json
import marshal
import os
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from vista.execution import current_scope

BOOT = Path(__file__).with_name("sandbox_boot.py")


@dataclass(frozen=True)
class SandboxLimits:
    cpu_s: int = 5
    wall_s: float = 10.0
    memory_mb: int = 512
    file_mb: int = 16
    output_bytes: int = 64 * 1024
    max_open_files: int = 64

    def __post_init__(self) -> None:
        if self.cpu_s < 1 or self.wall_s <= 0 or self.memory_mb < 64 or self.output_bytes < 1:
            raise ValueError(f"invalid sandbox limits {self}: need cpu_s >= 1, wall_s > 0, memory_mb >= 64 "
                             "(the interpreter itself needs about 30 MiB), output_bytes >= 1")


@dataclass
class SandboxRun:
    stdout: str
    stderr: str
    exit_code: int
    violation: str | None = None  # what the audit hook refused, when that ended the program
    limit: str | None = None  # "cpu", "wall" or "memory" when a limit ended the program
    truncated: bool = False
    seconds: float = 0.0


@functools.cache
def network_isolation() -> tuple[str, ...]:
    """The command prefix that runs the child in new user and network namespaces (no network interfaces), or ()
    where the kernel does not permit them."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    # a user namespace too (-r), even for root: capabilities then hold only inside it, so creating device nodes
    # (os.mknod, which raises no audit event) fails with EPERM
    prefix = (unshare, "-r", "-n")
    try:
        ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return prefix if ok else ()


@functools.cache
def _read_roots() -> tuple[str, ...]:
    """Folders the child may read (never write): the interpreter's standard library and installed packages,
    which imports need."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *sysconfig.get_paths().values(), "/usr/share/zoneinfo"}
    roots = {os.path.realpath(p) for p in paths if p} | {os.path.abspath(p) for p in paths if p}
    return tuple(sorted(r for r in roots if r != "/"))


def _site_paths() -> list[str]:
    """Installed packages, added by hand: `-S` skips `site`, whose .pth processing costs more than the rest of
    the start-up and runs the hooks of every editable install."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


def _environment(workdir: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}


def run_python(code: str, limits: SandboxLimits = SandboxLimits()) -> SandboxRun:
    """Run ``code`` as a program in the sandbox and return what it printed, its exit code, and what stopped it."""
    workdir = os.path.realpath(tempfile.mkdtemp(prefix="vista-sandbox-"))
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    try:
        Path(workdir, "main.py").write_text(code, encoding="utf-8")
        config = {"root": workdir, "read_roots": list(_read_roots()), "violation_fd": write_fd,
                  "site_paths": _site_paths(),
                  "cpu_s": limits.cpu_s, "memory_bytes": limits.memory_mb * 2**20,
                  "file_bytes": limits.file_mb * 2**20, "max_open_files": limits.max_open_files}
        # -u: unbuffered, so what a program printed before it was stopped is not lost with its buffers
        process = subprocess.Popen(
            [*network_isolation(), sys.executable, "-I", "-S", "-u", str(BOOT), marshal.dumps(config).hex()],
            cwd=workdir, env=_environment(workdir), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, pass_fds=(write_fd,), start_new_session=True)
        os.close(write_fd)
        write_fd = -1
        # the caller's deadline (the tool server's counts queue time) may come before our own wall-clock limit, and
        # a cancelled call (its caller gone) stops the program at once
        scope = current_scope()
        wall_s = limits.wall_s
        if scope is not None and scope.deadline is not None:
            wall_s = min(wall_s, max(scope.remaining(), 0.0))
        forget = scope.on_cancel(lambda: _kill_group(process.pid)) if scope is not None else (lambda: None)
        try:
            streams, stopped = _collect(process, read_fd, limits, wall_s)
        finally:
            forget()
        if stopped is None and scope is not None and scope.cancelled:
            stopped = "wall"
        exit_code = process.wait()
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        os.close(read_fd)
        shutil.rmtree(workdir, ignore_errors=True)
    run = SandboxRun(stdout=streams["stdout"].decode("utf-8", "replace"),
                     stderr=streams["stderr"].decode("utf-8", "replace"), exit_code=exit_code,
                     seconds=time.monotonic() - start)
    report = json.loads(streams["report"]) if streams["report"] else {}
    if stopped == "output":
        run.truncated = True
        run.stderr += f"\n[output limit of {limits.output_bytes} bytes reached; the program was stopped]"
    elif stopped == "wall":
        run.limit = "wall"
    elif report.get("kind") == "memory" or (exit_code != 0 and "MemoryError" in run.stderr[-2000:]):
        run.limit = "memory"
    elif exit_code in (-signal.SIGXCPU, -signal.SIGKILL):
        run.limit = "cpu"  # SIGXCPU at the soft CPU limit, SIGKILL at the hard one; we sent no kill ourselves
    elif report.get("kind") == "violation":
        run.violation = report["message"]
    return run


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _collect(process: subprocess.Popen, report_fd: int, limits: SandboxLimits,
             wall_s: float) -> tuple[dict[str, bytes], str | None]:
    """Read stdout, stderr and the violation report until the child exits; stop it at the wall-clock deadline or
    when its output passes the bound. Returns the bytes read and why we stopped it (None when it ended by itself)."""
    chunks: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray(), "report": bytearray()}
    deadline = time.monotonic() + wall_s
    stopped: str | None = None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        selector.register(report_fd, selectors.EVENT_READ, "report")
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stopped = "wall"
                break
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                chunks[key.data] += data
            if len(chunks["stdout"]) + len(chunks["stderr"]) > limits.output_bytes:
                stopped = "output"
                break
    if stopped is not None:
        _kill_group(process.pid)
    process.stdout.close()
    process.stderr.close()
    out = {name: bytes(buf) for name, buf in chunks.items()}
    if stopped == "output":
        budget = limits.output_bytes
        out["stdout"] = out["stdout"][:budget]
        out["stderr"] = out["stderr"][:max(0, budget - len(out["stdout"]))]
    return out, stopped
