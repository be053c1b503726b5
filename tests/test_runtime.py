"""Process-level settings (mimir.runtime): OpenMP waiting and glibc's allocator."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

FAULTS = """
import resource, sys
import numpy as np
from mimir.runtime import keep_freed_memory_in_heap
if sys.argv[1] == "on":
    assert keep_freed_memory_in_heap()
def faults_of_one_step():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(64 << 18, dtype=np.float32)  # 64 MiB: over glibc's largest mmap threshold
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults_of_one_step()
print(sum(faults_of_one_step() for _ in range(3)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_freed_large_blocks_are_reused_without_page_faults():
    """Without the setting every 64 MiB block is faulted in afresh (page by page, or by 2 MiB huge
    pages where the kernel gives them); with it the second and later blocks reuse the heap."""
    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True)
        return int(out.stdout.strip())

    fresh, reused = faults("off"), faults("on")
    assert fresh > 3 * 30  # at least one fault per 2 MiB huge page of each block
    assert reused * 10 < fresh


def test_openmp_waiting_is_set_unless_the_user_chose(monkeypatch):
    from mimir.runtime import settle_openmp_waiting

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    settle_openmp_waiting()
    assert os.environ["GOMP_SPINCOUNT"] == "300000"
    monkeypatch.setenv("GOMP_SPINCOUNT", "5")
    settle_openmp_waiting()
    assert os.environ["GOMP_SPINCOUNT"] == "5"
    monkeypatch.delenv("GOMP_SPINCOUNT")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    settle_openmp_waiting()
    assert "GOMP_SPINCOUNT" not in os.environ
