"""``[runtime]``: how many threads a run may use (never what it computes)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from engine.ranges import Range
from engine.runtime.blas import DEFAULT_BLAS_THREADS


def machine_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count; at least 1)."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        return max(1, int(counter() or 1))
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RuntimeSettings:
    """Threads a scoring run may use. Results do not depend on them (rows never interact), so this
    section is left out of :meth:`engine.config.Config.digest`.

    ``threads = 0`` means one per core this process may run on (:func:`machine_cores`); ``1`` runs
    the reference path: ``score`` then ``write_results``, nothing overlapped.
    """

    threads: int = field(
        default=0,
        metadata={
            "doc": "worker threads for scoring and writing (0: one per core this process may use; "
            "1: the reference path, score then write)",
            "range": Range(0, 1024),
        },
    )
    blas_threads: int = field(
        default=DEFAULT_BLAS_THREADS,
        metadata={
            "doc": "BLAS (OpenBLAS) threads while scoring: the matrices are small, so extra threads "
            "only spin and take CPU from the scoring threads",
            "range": Range(1, 1024),
        },
    )

    def worker_threads(self) -> int:
        """Threads to use: ``threads``, or the cores this process may run on when it is 0."""
        return self.threads if self.threads > 0 else machine_cores()
