"""Peak memory of one stage of a run, for its record in stages.json: the process's resident set (Linux's high-water
mark, reset when the stage begins by writing 5 to /proc/self/clear_refs) and, on a GPU, torch's peak allocation
(reset the same way). Where the high-water mark cannot be reset (no /proc, as on macOS), the figure is the
process's peak since it started, and says so. The reset is the kernel's own mark, so `/usr/bin/time -v` (or a
parent's ``wait4``) around a run sees the peak since the last stage began, not the run's: the run's peak is the
largest of its stages' figures."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _hwm_kib() -> int | None:
    """Linux's peak resident set of this process since its last reset (VmHWM), in KiB."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _cuda_torch():
    """torch where this process has put work on a GPU, else None (only a run that already imported torch can have)."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized() else None


class PeakMemory:
    """``with PeakMemory() as peak: ...``, then ``peak.record()``: ``peak_rss_gib`` (and ``peak_gpu_gib`` where
    CUDA is in use) over the block; ``peak_rss_since_start`` where the resident peak could not be reset."""

    def __enter__(self) -> PeakMemory:
        self.reset = False
        try:
            CLEAR_REFS.write_text("5")
            self.reset = _hwm_kib() is not None
        except OSError:
            pass
        if (torch := _cuda_torch()) is not None:
            torch.cuda.reset_peak_memory_stats()
        return self

    def __exit__(self, *exc) -> None:
        hwm = _hwm_kib() if self.reset else None
        if hwm is not None:
            self.rss_gib = hwm / 2 ** 20
        else:  # the lifetime peak: KiB on Linux, bytes on macOS
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.rss_gib = peak / (2 ** 30 if sys.platform == "darwin" else 2 ** 20)
        torch = _cuda_torch()
        self.gpu_gib = None if torch is None else torch.cuda.max_memory_allocated() / 2 ** 30

    def record(self) -> dict:
        out = {"peak_rss_gib": round(self.rss_gib, 3)}
        if not self.reset:
            out["peak_rss_since_start"] = True
        if self.gpu_gib is not None:
            out["peak_gpu_gib"] = round(self.gpu_gib, 3)
        return out
