"""keep_freed_memory: after it, a step's freed memory is reused instead of page-faulted back."""

import platform
import subprocess
import sys

import pytest

ROUNDS = """
import resource, sys, torch
from neka.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def one_step():  # like a training step: many mid-sized blocks allocated, written, all freed
    blocks = [torch.ones(256 * 1024) for _ in range(32)]  # 32 x 1 MiB
    del blocks
one_step(); one_step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    one_step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def page_faults_per_step(mode: str) -> float:
    """Measured in a fresh process: malloc's thresholds are process-wide and cannot be reset."""
    done = subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True, text=True, check=True)
    return float(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_freed_memory_is_reused_instead_of_faulted_back():
    default, kept = page_faults_per_step("default"), page_faults_per_step("keep")
    assert default > 4000  # 32 MiB a step, returned to the kernel and faulted back in 4 KiB pages
    assert kept < 100
