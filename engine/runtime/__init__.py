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
    collector, freezing objects before exit (the BLAS default of a fresh process is
    :func:`~engine.runtime.blas.default_blas_threads`).
``jobs``
    :class:`~engine.runtime.jobs.OnceJob`: a computation run once by whichever thread asks first.

Nothing is re-exported here: the command line's entry point imports :mod:`engine.runtime.blas`
before anything else, so this package's ``__init__`` stays empty (fast start).
"""
