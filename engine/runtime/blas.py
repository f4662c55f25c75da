"""BLAS thread limits through threadpoolctl (whichever BLAS numpy and scipy loaded)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

#: Default BLAS threads (``[runtime] blas_threads``): the matrices here are small.
DEFAULT_BLAS_THREADS = 1
#: Environment variables read by the BLAS libraries when they load (before numpy is imported).
_BLAS_ENV = ("OPENBLAS_NUM_THREADS",)


@cache
def _controller() -> Any:
    """threadpoolctl's view of the loaded thread pools (built once: inspecting them takes ~10 ms;
    a limit then takes microseconds). Imports numpy first so its BLAS is among them."""
    import numpy  # noqa: F401  (loads the BLAS the controller should see)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def blas_threads(limit: int) -> Iterator[None]:
    """Run the block with at most ``limit`` BLAS threads; the previous limits are restored after.

    For the small dense solves here (ARL chains of a few hundred states) one thread is fastest: on
    a busy machine OpenBLAS worker threads spin and make such solves up to 40x slower.
    """
    with _controller().limit(limits=int(limit), user_api="blas"):
        yield


def default_blas_threads(limit: int = DEFAULT_BLAS_THREADS) -> None:
    """For a fresh process (before numpy is imported): BLAS starts ``limit`` threads, not one per
    core that busy-waits after every call. A value the user set in the environment wins; once
    numpy is loaded this does nothing (use :func:`blas_threads` then)."""
    if "numpy" in sys.modules:
        return
    for name in _BLAS_ENV:
        os.environ.setdefault(name, str(int(limit)))
