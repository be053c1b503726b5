"""Process-level settings: OpenMP's wait policy (before torch loads) and glibc's allocator (before training)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt(3) parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def settle_openmp_waiting() -> None:
    """Idle OpenMP threads spin for a few milliseconds, then sleep (libgomp's own default, made explicit).

    Between two torch ops an OpenMP worker waits for the next parallel region. Sleeping at once
    (OMP_WAIT_POLICY=PASSIVE, what MIMIR set before) costs a wake-up per op, and a training step has
    thousands: `tune`'s steps took 1.4x as long (the same 8 steps on the 2-core CPU: 106 s passive,
    84.5 s at 30,000 spins, 77.1 s at 300,000, 70.8 s spinning without end). Spinning without end
    keeps both cores busy while the app idles and steals them from other processes (measured on a
    shared 2-core box: 16 tokens in 38.7 s spinning vs 4.3 s passive); 300,000 spins give a core up
    within milliseconds. On a CPU shared with other heavy jobs, set OMP_WAIT_POLICY=PASSIVE. Only
    effective before torch is imported; values the user set win.
    """
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "300000")


def keep_freed_memory_in_heap() -> bool:
    """Large blocks freed by one training step stay in the heap for the next one (glibc only).

    glibc serves every allocation over 32 MB (logits over a 49k vocabulary, their gradients) with a
    fresh mmap and returns it on free, so each training step faults the same memory in again, page
    by page: ~17,000 page faults a second and 6-19% of the CPU time in the kernel at the small
    preset's settings. Served from the heap, with the heap never trimmed, the faults stopped and the
    same 8 steps took 75.8 s instead of 83.3 s (2-core CPU, `/proc/PID/stat` over 20 s of
    training). The process keeps its peak memory until it exits, so only processes that end with their
    run call it (`python -m mimir train` / `tune`, the accelerate worker), not the app.
    Returns whether the allocator took both settings (False off glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
