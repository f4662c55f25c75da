"""How fast is this host right now? Two fixed workloads, timed beside every benchmark run.

The benchmarks run on a shared 2-core VM whose speed drifts with the host's load: the same code, an
hour apart, has measured 10 s and 31 s end to end. A figure means little without the host's speed at
the time, so the session prints two probes at its start and its end (``H1``/``H2`` in the table):

* **CPU**: a pure-Python loop of 5 M additions, best of 3 (interpreter speed, one core, no memory).
* **Fresh memory**: seconds to fault in and write 1 GB of new pages in a new process (what a
  ``(S, T)`` array costs the first time; on this VM the host's free-page reporting makes it vary
  from ~0.3 to ~3 s per GB).

Neither depends on wardwatch's code, so a change in them between two sessions is the host, not us.
"""

from __future__ import annotations

import subprocess
import sys
import time

_LOOP = 5_000_000
_FRESH_GB = 1.0

_FRESH_SCRIPT = """
import time
import numpy as np
t0 = time.perf_counter()
a = np.ones(int({gb} * 2**30 // 8))
print(time.perf_counter() - t0)
"""


def cpu_probe(repeats: int = 3) -> float:
    """Seconds for a pure-Python loop of 5 M additions (best of ``repeats``)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        total = 0
        for i in range(_LOOP):
            total += i
        best = min(best, time.perf_counter() - t0)
    assert total == _LOOP * (_LOOP - 1) // 2
    return best


def fresh_memory_probe() -> float:
    """Seconds per GB to fault in and fill new pages, in a fresh process (its first touch)."""
    out = subprocess.run(
        [sys.executable, "-c", _FRESH_SCRIPT.format(gb=_FRESH_GB)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip()) / _FRESH_GB
