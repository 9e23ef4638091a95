"""`keep_freed_memory`: glibc's malloc keeps the memory a training step frees for the next step.

By default glibc gives a freed block of more than 128 KiB straight back to the kernel (it was
mmap'ed), and trims the heap's free top above 128 KiB. A training step allocates and frees
the same activations and gradients every time, so every step asks the kernel for them again
and page-faults each 4 KiB page back in, zero-filled: about 2,400 faults a step for the tiny
BERT, 26,000 for the MiniLM shape on this project's 2-core CPU. Raising both thresholds to
their maximum keeps those pages in the process; peak memory does not change (the step needs
them anyway). `python -m neka.bench` shows the gain in its neka_system_malloc row
(neka/bench/RESULTS.md). jemalloc and tcmalloc, which PyTorch's CPU tuning guide suggests
preloading, behave like this already; off glibc (macOS, Windows, musl) this does nothing.
"""

import ctypes
import logging
import platform

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 << 20  # glibc's ceiling for 64-bit processes: larger blocks are still mmap'ed
TRIM_THRESHOLD_MAX = 2 ** 31 - 1  # mallopt takes a C int


def keep_freed_memory() -> bool:
    """Sets glibc's thresholds for this process; False where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the C library this process already uses
    kept = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) and libc.mallopt(M_TRIM_THRESHOLD,
                                                                                       TRIM_THRESHOLD_MAX))
    log.info("keep_freed_memory=true: %s", "glibc keeps freed memory for the next step" if kept
             else "glibc refused the thresholds; its defaults stay")
    return kept
