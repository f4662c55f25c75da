"""Performance plumbing in one place: threads, BLAS thread limits and process tuning.

Modules (none does anything when imported; each effect is a function the caller runs):

``settings``
    :class:`RuntimeSettings` (``[runtime]`` in the configuration): worker threads (default: the
    cores this process may run on) and BLAS threads.
``kernels``
    numba helpers: :func:`~engine.runtime.kernels.sized` (a parallel kernel with a serial twin for
    small inputs) and :func:`~engine.runtime.kernels.threads_may_share_kernels`.
``blas``
    :func:`~engine.runtime.blas.blas_threads`: a scoped BLAS thread limit through threadpoolctl.
``process``
    One-batch-run tuning for the command line: glibc ``mallopt``, pausing the cyclic garbage
    collector, freezing objects before exit, the BLAS default of a fresh process.

Only :mod:`engine.runtime.settings` is re-exported here, so importing the configuration does not
import numba or threadpoolctl.
"""

from engine.runtime.settings import RuntimeSettings, machine_cores

__all__ = ["RuntimeSettings", "machine_cores"]
