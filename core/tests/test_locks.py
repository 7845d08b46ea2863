"""One writer per run directory (`vista.locks.RunLock`), across processes."""

import os
import signal
import subprocess
import sys

import pytest
from vista.locks import RunDirectoryBusy, RunLock

HOLD = """
import sys, time
from vista.locks import RunLock
with RunLock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def holder(run_dir):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_naming_the_holder_and_a_killed_holders_lock_is_taken(tmp_path):
    proc = holder(tmp_path / "run")
    try:
        with pytest.raises(RunDirectoryBusy) as refused:
            with RunLock(tmp_path / "run"):
                pass
        message = str(refused.value)
        assert f"PID {proc.pid}" in message and "\n" not in message and "another directory" in message
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with RunLock(tmp_path / "run"):  # the kernel let go of the killed holder's lock
        pass


def test_the_lock_is_reentrant_within_a_process_and_released_after(tmp_path):
    with RunLock(tmp_path), RunLock(tmp_path):
        pass
    proc = holder(tmp_path)  # another process takes it once this one let go
    proc.kill()
    proc.wait()
