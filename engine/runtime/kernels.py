"""numba helpers: serial or parallel compiled kernels chosen by input size, and whether two threads
may run parallel kernels at once.

numba's ``parallel=True`` starts worker threads on every call: tens of microseconds on an idle
machine, but tens of milliseconds when the cores are busy, which dominates small inputs (a demo trust
calls each kernel with a few thousand cells, dozens of times). :func:`sized` wraps a parallel kernel
whose ``prange`` loop runs over independent rows so that inputs below ``min_cells`` run a serial
compilation of the *same* Python source instead (``prange`` is then ``range``). Rows never interact,
so both give bit-identical results.

This is the one module that looks past numba's public decorators: a dispatcher's ``targetoptions``
(to compile the serial twin with the same options) and which threading-layer modules import.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit


def _serial_twin(kernel: Any) -> Any:
    """A serial ``njit`` compilation of ``kernel``'s Python function, cached under its own name, with
    the kernel's own options (``nogil``, ``error_model``, ...) except ``parallel``."""
    options = {k: v for k, v in kernel.targetoptions.items() if k not in ("parallel", "nopython")}
    f = kernel.py_func
    twin = types.FunctionType(
        f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__, f.__closure__
    )
    # numba names its on-disk cache after the qualified name: a distinct one keeps the serial and the
    # parallel machine code apart.
    twin.__qualname__ = f.__qualname__ + "_serial"
    twin.__module__ = f.__module__
    twin.__doc__ = f.__doc__
    return njit(cache=True, **options)(twin)


class SizedKernel:
    """Callable: the parallel kernel when ``args[0]`` has at least ``min_cells`` elements, else serial.

    Attributes
    ----------
    parallel, serial:
        The two compiled dispatchers.
    min_cells:
        Size of the first argument (cells of an ``(S, T)`` array) from which threads pay off.
    """

    def __init__(self, kernel: Any, min_cells: int) -> None:
        self.parallel = kernel
        self.serial = _serial_twin(kernel)
        self.min_cells = int(min_cells)
        self.__doc__ = kernel.__doc__
        self.__name__ = kernel.__name__
        self.__wrapped__ = kernel.py_func

    def __call__(self, *args: Any) -> Any:
        kernel = self.parallel if np.size(args[0]) >= self.min_cells else self.serial
        return kernel(*args)


def sized(min_cells: int) -> Callable[[Any], SizedKernel]:
    """Decorator for a ``@njit(parallel=True, ...)`` kernel: serial below ``min_cells`` input cells.

    The serial compilation takes the kernel's other ``njit`` options (e.g. ``nogil``,
    ``error_model="numpy"``).
    """

    def wrap(kernel: Any) -> SizedKernel:
        return SizedKernel(kernel, min_cells)

    return wrap


def threads_may_share_kernels() -> bool:
    """Whether two Python threads may run parallel kernels at the same time.

    numba's ``tbb`` and ``omp`` threading layers allow it; the ``workqueue`` fallback (used when
    neither library loads) aborts the process. numba picks the first of tbb, omp, workqueue that
    imports, so this checks the same imports.
    """
    for layer in ("tbbpool", "omppool"):
        try:
            __import__(f"numba.np.ufunc.{layer}")
        except ImportError:
            continue
        return True
    return False
