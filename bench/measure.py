"""Timers, recall, percentiles, QPS and memory."""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """The call's result and its wall time in seconds (``perf_counter_ns``)."""
    start = time.perf_counter_ns()
    result = call()
    return result, (time.perf_counter_ns() - start) / 1e9


def recall(found: Sequence[object], truth: Sequence[object]) -> float:
    """|found ∩ truth| / |truth| (1.0 for an empty truth)."""
    return len(set(found) & set(truth)) / len(truth) if truth else 1.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    On Linux, the kernel's high-water mark of this address space (``VmHWM``), which
    :func:`reset_peak_rss` can lower to the current size; elsewhere ``ru_maxrss``.
    (``ru_maxrss`` is no good in a child: it also counts the address space before
    ``exec``, i.e. a copy of the parent's.)
    """
    found = _proc_status("VmHWM")
    if found is not None:
        return found
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def rss_mb() -> float | None:
    """This process's resident set size now, in MiB (None where /proc is not)."""
    return _proc_status("VmRSS")


def reset_peak_rss() -> bool:
    """Lower the peak resident set size to the current size (Linux >= 4.0: ``clear_refs``
    5); whether it could."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _proc_status(field: str) -> float | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    return None


def finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
