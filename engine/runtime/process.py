"""Process tuning for one batch run of the command line (not for a long-lived server or tests).

Each function is called explicitly by the command that wants it; nothing here runs at import.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def keep_freed_memory() -> None:
    """glibc only: reuse freed memory inside the process instead of returning it to the kernel.

    Call it before any other thread allocates. By default glibc serves each block of 32 MB or more
    (a ``(S, T)`` score array is ~90 MB at national scale) from its own mapping, unmapped when freed,
    gives each thread its own arena, and trims a heap as soon as ~128 kB-64 MB at its top is free;
    every new array then faults in fresh pages that the kernel must zero. On a VM whose host
    reclaims freed guest memory a fresh page costs ~1-2 s per GB. Here every thread shares the main
    heap, large blocks come from it too, and up to 1 GB free at its top is kept: freed arrays are
    reused by the next ones (national run: 7.3 -> 5.5 GB of fresh pages for a peak ~0.1 GB higher).
    For one batch run, not a long-lived server. No effect elsewhere.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_mmap_max, m_arena_max = -1, -4, -8
    mallopt(m_arena_max, 1)  # threads created from now on share the main arena
    mallopt(m_mmap_max, 0)  # no block gets a mapping of its own
    mallopt(m_trim_threshold, 1 << 30)


def no_huge_pages() -> None:
    """Stop numpy asking the kernel for transparent huge pages for its arrays.

    numpy marks every array of 4 MB or more ``madvise(MADV_HUGEPAGE)``; where transparent huge pages
    are ``madvise`` mode (this host) each first touch then faults in and zeroes a whole 2 MB page. On
    the benchmark VM that costs more than it saves: a national score spent 6.4-7.2 s of system time
    with them and 2.8 s without (wall 12.7 / 13.8 s against 11.3 / 10.8 s, paired runs); user time
    rises by ~0.5 s (more TLB misses). Call it before the large arrays are allocated; it changes no
    result. No effect where numpy lacks the switch.
    """
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)
    switch = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if switch is not None:
        switch(False)


@contextmanager
def paused_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for one scoring run (reference counting still frees).

    Scoring builds hundreds of thousands of small containers (alert rows, labels), which trigger
    hundreds of collections that each walk every object the imports created: ~0.4 s of a national run.
    Arrays are freed by reference counting as before; cycles, if any, are collected afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def freeze_before_exit() -> None:
    """Spare the interpreter's final garbage collection (call just before a batch process ends).

    The imports (numba, polars, scipy, pyarrow...) leave millions of objects that the final
    collection would walk once more on the way out (~0.4 s after a national score); nothing is left
    to collect by then, so they are frozen (``gc.freeze``).
    """
    gc.freeze()
