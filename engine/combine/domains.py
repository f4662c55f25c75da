"""Joint log-likelihood-ratio CUSUM per ward and domain (see docs/combination.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from engine.combine.rowgroups import finite, group_sum


@dataclass(frozen=True)
class DomainEvidence:
    """Domain statistics and what contributed to them.

    Attributes
    ----------
    statistic:
        ``(W, D, T)`` joint CUSUM of summed LLR increments (nats), per ward, domain and week.
    contribution:
        ``(S, T)`` each series' summed increments since its domain statistic last stood at zero
        (positive = pushing the domain towards concern). Used to say which indicators contributed.
    since:
        ``(W, D, T)`` index of the last week the domain statistic was zero before t (-1: never was),
        i.e. the onset estimate of the domain's current excursion.
    """

    statistic: np.ndarray
    contribution: np.ndarray
    since: np.ndarray


def domain_cusum(
    z: np.ndarray,
    ward: np.ndarray,
    domain: np.ndarray,
    n_wards: int,
    n_domains: int,
) -> DomainEvidence:
    """Page's CUSUM on the per-ward, per-domain sums of LLR increments.

    Parameters
    ----------
    z:
        ``(S, T)`` LLR increments in nats, each in its indicator's closure direction; 0 where there
        is no evidence (missing data; NaN counts as 0). Series with ``domain < 0`` are ignored.
    ward, domain:
        ``(S,)`` integer ward and domain index of each series.
    """
    stat, since, (contribution,) = domain_cusum_blocks([(z, ward, domain)], n_wards, n_domains)
    return DomainEvidence(stat, contribution, since)


def domain_cusum_blocks(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], n_wards: int, n_domains: int
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """:func:`domain_cusum` of the rows of several ``(z, ward, domain)`` blocks stacked in order,
    without stacking them: ``(statistic, since, [contribution of each block])``.

    Bit-identical to the NumPy formulation (``np.nan_to_num`` of the stacked ``z``, sums over rows in
    order by ``np.add.at``, then ``max(0, prev + sum)`` week by week); the compiled passes need no
    ``(S, T)`` temporaries, only the block contributions they return.
    """
    t_count = blocks[0][0].shape[1] if blocks else 0
    summed = np.zeros((n_wards * n_domains, t_count))
    cells = []
    for z, ward, domain in blocks:
        cell = np.where(domain >= 0, ward * n_domains + domain, -1).astype(np.int64)
        group_sum(z, cell, len(summed), out=summed, nan_to_num=True)
        cells.append(cell)
    stat = np.empty_like(summed)
    since = np.empty(summed.shape, dtype=np.int64)
    _page_cusum(summed, stat, since)
    contributions = []
    for (z, _, _), cell in zip(blocks, cells, strict=True):
        contribution = np.empty(z.shape)
        _runs_while_alive(np.ascontiguousarray(z, dtype=np.float64), cell, stat, contribution)
        contributions.append(contribution)
    shape = (n_wards, n_domains, t_count)
    return stat.reshape(shape), since.reshape(shape), contributions


@njit(cache=True, nogil=True)
def _page_cusum(summed: np.ndarray, stat: np.ndarray, since: np.ndarray) -> None:
    """``stat[:, t] = np.maximum(0, stat[:, t-1] + summed[:, t])`` (NaN propagates as in NumPy);
    ``since``: the last t before this one at which the statistic was <= 0 (-1: none)."""
    for c in range(summed.shape[0]):
        prev, last_zero = 0.0, -1
        for t in range(summed.shape[1]):
            v = prev + summed[c, t]
            cur = 0.0 if v <= 0.0 else v  # NaN stays NaN, as np.maximum(0, v)
            stat[c, t] = cur
            since[c, t] = last_zero
            if cur <= 0.0:
                last_zero = t
            prev = cur


@njit(cache=True, nogil=True)
def _runs_while_alive(z: np.ndarray, cell: np.ndarray, stat: np.ndarray, out: np.ndarray) -> None:
    """Each series' increments summed since its domain statistic was last at zero (0 outside a domain)."""
    for s in range(z.shape[0]):
        c = cell[s]
        run = 0.0
        for t in range(z.shape[1]):
            if c >= 0 and stat[c, t] > 0:
                run = run + finite(z[s, t])
            else:
                run = 0.0
            out[s, t] = run
