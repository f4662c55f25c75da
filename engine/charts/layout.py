"""Bookkeeping that lets every chart run on ``(S, T)`` arrays with gaps and rebase groups.

Missing values (``NaN``) are *removed* before charting, exactly as if those rows were absent from
the data given to NHSRplotthedots: each series' observed values are packed to the left of a
"compacted" ``(S, T)`` array (order preserved, empty cells at the end), so moving ranges bridge a
gap (the range is between the last observed value before it and the first after it) and runs and
trends are counted on the sequence of observed values. Each run of equal rebase-group ids along
that sequence is a **segment** (NHSRplotthedots's ``(facet, rebase_group)``): limits are computed
per segment and no rule window crosses a segment boundary. Results are scattered back to the
original periods, with ``NaN`` / ``MISSING_POINT`` at missing periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba as nb
import numpy as np

from engine.runtime.kernels import sized


@dataclass(frozen=True)
class Layout:
    """Compaction of ``(S, T)`` observations into per-(series, rebase group) segments.

    Attributes
    ----------
    order:
        ``(S, T)`` int: original column of each compacted cell (observed cells first, in time order).
    valid:
        ``(S, T)`` bool: the compacted cell holds an observation (a prefix of every row).
    seg:
        ``(S, T)`` int: global segment id of each compacted cell; ``n_seg`` for empty cells.
    rank:
        ``(S, T)`` int: 0-based position of the cell within its segment; -1 for empty cells.
    group:
        ``(S, T)`` int: compacted rebase-group ids.
    n_seg:
        Number of segments over all series.
    seg_len, seg_series:
        ``(n_seg,)`` number of observations in, and series row of, each segment.
    n_obs:
        ``(S,)`` number of observations per series.
    """

    order: np.ndarray
    valid: np.ndarray
    seg: np.ndarray
    rank: np.ndarray
    group: np.ndarray
    n_seg: int
    seg_len: np.ndarray
    seg_series: np.ndarray
    n_obs: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.valid.shape

    def compact(self, a: np.ndarray) -> np.ndarray:
        """Reorder an original ``(S, T)`` array into compacted order (empty cells keep junk)."""
        return np.take_along_axis(np.asarray(a), self.order, axis=1)

    @cached_property
    def _complete(self) -> bool:
        """True when no cell is missing (scatter is then a copy)."""
        return bool(self.valid.all())

    def scatter(self, a: np.ndarray, fill: float | int | bool | np.generic) -> np.ndarray:
        """Put a compacted ``(S, T)`` array back at the original periods; ``fill`` where missing."""
        if self._complete:
            return np.array(a, copy=True)
        out = np.full(self.shape, fill, dtype=a.dtype)
        _scatter_rows(np.ascontiguousarray(a), self.order, self.n_obs, out)
        return out

    def seg_sum(self, w: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
        """``(n_seg,)`` sum of ``w`` (or the count when ``w`` is None) over ``mask`` cells."""
        ids = np.where(mask, self.seg, self.n_seg).ravel()
        weights = None if w is None else np.where(mask, w, 0.0).ravel()
        return np.bincount(ids, weights=weights, minlength=self.n_seg + 1)[: self.n_seg]

    def broadcast(self, per_seg: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """A compacted ``(S, T)`` array holding each cell's segment value (``fill`` if empty)."""
        padded = np.append(per_seg.astype(np.result_type(per_seg, type(fill))), fill)
        return padded[self.seg]

    def last_cell(self) -> np.ndarray:
        """``(S,)`` compacted column of each series' last observation (-1 when none)."""
        return self.n_obs - 1


@sized(4_000_000)
@nb.njit(nogil=True, cache=True, parallel=True)
def _scatter_rows(a: np.ndarray, order: np.ndarray, n_obs: np.ndarray, out: np.ndarray) -> None:
    """``out[i, order[i, k]] = a[i, k]`` for the ``n_obs[i]`` observed cells of every row ``i``."""
    for i in nb.prange(a.shape[0]):
        for k in range(n_obs[i]):
            out[i, order[i, k]] = a[i, k]


def build_layout(observed: np.ndarray, groups: np.ndarray | None = None) -> Layout:
    """Compact observed cells and cut segments at rebase-group changes.

    Parameters
    ----------
    observed:
        ``(S, T)`` bool, True where a value is available.
    groups:
        Optional ``(S, T)`` integer rebase-group ids (e.g. the running count of rebase events). A
        new segment starts wherever the id differs from that of the previous *observed* period.
    """
    observed = np.asarray(observed, dtype=bool)
    t_count = observed.shape[1]
    n_obs = observed.sum(axis=1)
    cols = np.arange(t_count, dtype=np.int32)
    if observed.all():
        order = np.broadcast_to(cols, observed.shape).copy()
    else:
        order = np.argsort(~observed, axis=1, kind="stable").astype(np.int32)
    valid = cols[None, :] < n_obs[:, None]
    if groups is None:
        group = np.zeros(observed.shape, dtype=np.int32)
        new = valid & (cols[None, :] == 0)
    else:
        groups = np.asarray(groups)
        if groups.shape != observed.shape:
            raise ValueError(f"groups has shape {groups.shape}, expected {observed.shape}")
        group = np.take_along_axis(groups, order, axis=1).astype(np.int32)
        new = np.zeros(observed.shape, dtype=bool)
        new[:, 0] = True
        new[:, 1:] = group[:, 1:] != group[:, :-1]
        new &= valid
    counter = np.cumsum(new.ravel(), dtype=np.int64).reshape(observed.shape)
    n_seg = int(counter[-1, -1]) if counter.size else 0
    seg = np.where(valid, counter - 1, n_seg).astype(np.int64 if n_seg >= 2**31 - 1 else np.int32)
    start = np.maximum.accumulate(np.where(new, cols[None, :], 0), axis=1)
    rank = np.where(valid, cols[None, :] - start, -1).astype(np.int32)
    seg_len = np.bincount(seg.ravel(), minlength=n_seg + 1)[:n_seg]
    seg_series = np.nonzero(new)[0]
    return Layout(order, valid, seg, rank, group, n_seg, seg_len, seg_series, n_obs)


def groups_from_markers(markers: np.ndarray) -> np.ndarray:
    """Rebase-group ids from rebase markers, as NHSRplotthedots: the running count of markers.

    ``markers`` is ``(S, T)`` bool (or 0/1), True on the first period of each new baseline.
    """
    return np.cumsum(np.asarray(markers, dtype=bool), axis=1, dtype=np.int32)


def as_2d_groups(groups: np.ndarray | None) -> np.ndarray | None:
    """Rebase-group ids as an ``(S, T)`` array (a ``(T,)`` row is one series); None stays None."""
    if groups is None:
        return None
    arr = np.asarray(groups)
    return arr[None, :] if arr.ndim == 1 else arr


def baseline_masks(
    layout: Layout, exclude: np.ndarray | None, fix_after_n_points: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Compacted ``(include, base)`` masks: ``include`` the charted points not in ``exclude``
    (``(S, T)`` or ``(T,)`` bool at the original periods), ``base`` those of them among the first
    ``fix_after_n_points`` of their rebase group (all of them when None), which set the limits."""
    include = layout.valid.copy()
    if exclude is not None:
        ex = np.asarray(exclude, dtype=bool)
        include &= ~layout.compact(ex[None, :] if ex.ndim == 1 else ex)
    base = include.copy()
    if fix_after_n_points is not None:
        base &= layout.rank < fix_after_n_points
    return include, base
