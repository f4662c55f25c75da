"""Output order and duplicate detection from one integer key per usable row.

The key of a row encodes ``(ward code, indicator code, day)`` so that sorting keys sorts rows by
(ward_id, indicator, period). National files arrive as long runs already in key order (one run per
ward and indicator, the runs themselves in some other order), so instead of a full stable sort of
millions of keys the runs (one per series) are found in one compiled pass, sorted by their first key
and laid end to end; when that does not give exactly what a stable sort would (runs that overlap), a
stable ``argsort`` is used.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.runtime.kernels import sized


@nb.njit(nogil=True, cache=True)
def _scan_runs(key: np.ndarray, dup: np.ndarray, starts: np.ndarray, step: int) -> int:
    """Mark equal neighbours in ``dup``; write where each run starts; return the number of runs.

    A run is non-decreasing and ends before a key that is smaller, or larger by ``step`` or more.
    """
    starts[0] = 0
    n_runs = 1
    for i in range(1, key.size):
        if key[i] < key[i - 1] or key[i] - key[i - 1] >= step:
            starts[n_runs] = i
            n_runs += 1
        elif key[i] == key[i - 1]:
            dup[i - 1] = True
            dup[i] = True
    return n_runs


@sized(1_000_000)
@nb.njit(nogil=True, cache=True, parallel=True)
def _lay_runs(order: np.ndarray, starts: np.ndarray, lengths: np.ndarray, offsets: np.ndarray) -> None:
    """``order[offsets[r] + t] = starts[r] + t``: the runs laid end to end (runs in parallel)."""
    for r in nb.prange(starts.size):
        s, o = starts[r], offsets[r]
        for t in range(lengths[r]):
            order[o + t] = s + t


#: Runs shorter than this on average: one stable argsort of the keys needs less memory than
#: laying out that many runs (starts, ends, permutation: ~50 bytes a row).
_SHORT_RUNS = 8


@nb.njit(nogil=True, cache=True)
def _mark_sorted_dups(key: np.ndarray, order: np.ndarray, dup: np.ndarray) -> bool:
    """Mark rows whose key equals their neighbour's in sorted order; return whether ``order`` is the
    identity (one pass, no temporaries)."""
    identity = order.size == 0 or order[0] == 0
    for j in range(1, order.size):
        a, b = order[j - 1], order[j]
        if b != j:
            identity = False
        if key[a] == key[b]:
            dup[a] = True
            dup[b] = True
    return identity


def _argsort_order(key: np.ndarray, n: int) -> tuple[np.ndarray | None, np.ndarray]:
    """The stable sort order of ``key`` and the rows sharing their key, by one stable argsort."""
    order = np.argsort(key, kind="stable")
    dup = np.zeros(n, dtype=bool)
    if _mark_sorted_dups(key, order, dup):
        return None, dup
    return order, dup


def stable_order(key: np.ndarray, step: int | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """The stable sort order of ``key`` and which rows share their key with another row.

    Parameters
    ----------
    key:
        ``(N,)`` int64 sort keys.
    step:
        Runs are also cut where the key jumps by ``step`` or more: with ``key = series * span + day``
        and ``step = span``, each run then holds one series (or neighbouring series), so runs of a
        file ordered by ward and then by indicators in some other order do not overlap.

    Returns
    -------
    order:
        ``(N,)`` int64, identical to ``np.argsort(key, kind="stable")``; ``None`` when that is the
        identity (the keys are already sorted).
    dup:
        ``(N,)`` bool, in input order: another row has the same key.
    """
    n = key.size
    dup = np.zeros(n, dtype=bool)
    if n < 2:
        return None, dup
    starts = np.empty(n, dtype=np.int64)  # pages are only touched for the runs found
    n_runs = _scan_runs(key, dup, starts, np.iinfo(np.int64).max if step is None else step)
    if n_runs * _SHORT_RUNS > n:  # short runs (e.g. rows by ward, then period, then indicator)
        del starts
        return _argsort_order(key, n)
    starts = starts[:n_runs].copy()
    if starts.size == 1 or bool(np.all(key[starts[1:]] >= key[starts[1:] - 1])):  # already sorted
        return None, dup
    ends = np.append(starts[1:], n)
    perm = np.argsort(key[starts], kind="stable")  # runs by first key, ties by position
    first, last = key[starts[perm]], key[ends[perm] - 1]
    # Laid end to end the runs are a stable sort when each run ends below the next one's start, or
    # at the same key with the earlier run first.
    lo, hi = last[:-1], first[1:]
    if not bool(np.all((lo < hi) | ((lo == hi) & (perm[:-1] < perm[1:])))):
        del starts, ends, perm, first, last, lo, hi
        return _argsort_order(key, n)
    touch = np.flatnonzero(lo == hi)  # equal keys where one run meets the next
    dup[ends[perm[touch]] - 1] = True
    dup[starts[perm[touch + 1]]] = True
    lengths = (ends - starts)[perm]
    offsets = np.cumsum(lengths) - lengths
    order = np.empty(n, dtype=np.int64)
    _lay_runs(order, starts[perm], lengths, offsets)
    return order, dup
