"""Output order and duplicate detection from one integer key per usable row.

The key of a row encodes ``(ward code, indicator code, day)`` so that sorting keys sorts rows by
(ward_id, indicator, period). National files arrive as long runs already in key order (one run per
ward and indicator, the runs themselves in some other order), so instead of a full stable sort of
millions of keys the runs are sorted by their first key and laid end to end; when that does not give
exactly what a stable sort would (runs that overlap), a stable ``argsort`` is used.
"""

from __future__ import annotations

import numpy as np


def stable_order(key: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The stable sort order of ``key`` and which rows share their key with another row.

    Parameters
    ----------
    key:
        ``(N,)`` int64 sort keys.

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
    same = key[1:] == key[:-1]  # equal keys in one run (a run boundary is a descent)
    dup[1:] |= same
    dup[:-1] |= same
    del same
    starts = np.flatnonzero(key[1:] < key[:-1]) + 1
    if starts.size == 0:
        return None, dup
    starts = np.concatenate(([0], starts))
    ends = np.append(starts[1:], n)
    perm = np.argsort(key[starts], kind="stable")  # runs by first key, ties by position
    first, last = key[starts[perm]], key[ends[perm] - 1]
    # Laid end to end the runs are a stable sort when each run ends below the next one's start, or
    # at the same key with the earlier run first.
    lo, hi = last[:-1], first[1:]
    if not bool(np.all((lo < hi) | ((lo == hi) & (perm[:-1] < perm[1:])))):
        order = np.argsort(key, kind="stable")
        sk = key[order]
        same = sk[1:] == sk[:-1]
        dup_sorted = np.zeros(n, dtype=bool)
        dup_sorted[1:] |= same
        dup_sorted[:-1] |= same
        dup[order] = dup_sorted
        return order, dup
    touch = np.flatnonzero(lo == hi)  # equal keys where one run meets the next
    dup[ends[perm[touch]] - 1] = True
    dup[starts[perm[touch + 1]]] = True
    lengths = (ends - starts)[perm]
    offsets = np.cumsum(lengths) - lengths
    order = np.arange(n, dtype=np.int64)
    order += np.repeat(starts[perm] - offsets, lengths)
    return order, dup
