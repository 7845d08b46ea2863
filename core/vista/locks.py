"""One writer per run directory.

Two processes writing one run directory (two `vista eval --run-dir X`, two `vista-train --run_dir X`, a study and a
stage of it) would each append the same episodes: the trajectory log would hold them twice and the results count
them twice. `RunLock` is an advisory lock on ``<run dir>/.vista-lock`` (``fcntl.flock``): the second writer is
refused in one line naming the holder's PID and command; the kernel releases the lock when its holder exits,
however it exits, so a lock left by a killed process is simply taken by the next run (nothing stale to clean).
Re-entrant within a process: a stage that locks the run directory its pipeline already holds goes on.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from .errors import VistaError

LOCK_NAME = ".vista-lock"


class RunDirectoryBusy(VistaError):
    """Another live process is writing the run directory."""


class RunLock:
    """``with RunLock(run_dir):`` holds ``run_dir`` for this process (created if missing), or raises
    `RunDirectoryBusy` at once, before any work, naming the process that holds it."""

    _held: dict[Path, int] = {}  # this process's locks: path -> depth (re-entrant)

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir).resolve() / LOCK_NAME
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        if self.path in RunLock._held:
            RunLock._held[self.path] += 1
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunDirectoryBusy(f"{self.path.parent} is being written by {holder}; wait for it to finish, or "
                                   "give this run another directory") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"PID {os.getpid()} ({' '.join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200]})"
                      .encode(), 0)
        self.fd = fd
        RunLock._held[self.path] = 1
        return self

    def __exit__(self, *exc) -> None:
        RunLock._held[self.path] -= 1
        if RunLock._held[self.path]:
            return
        del RunLock._held[self.path]
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
