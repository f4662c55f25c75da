"""Joint log-likelihood-ratio CUSUM per ward and domain (see docs/combination.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.combine.rowgroups import group_sum


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
        is no evidence (missing data). Series with ``domain < 0`` are ignored.
    ward, domain:
        ``(S,)`` integer ward and domain index of each series.
    """
    s_count, t_count = z.shape
    use = domain >= 0
    cell = ward * n_domains + np.where(use, domain, 0)
    summed = group_sum(np.nan_to_num(z), np.where(use, cell, -1), n_wards * n_domains)
    stat = np.zeros_like(summed)
    since = np.full(summed.shape, -1, dtype=np.int64)
    contribution = np.zeros((s_count, t_count))
    prev = np.zeros(summed.shape[0])
    last_zero = np.full(summed.shape[0], -1, dtype=np.int64)
    run = np.zeros(s_count)
    zz = np.nan_to_num(z)
    for t in range(t_count):
        cur = np.maximum(0.0, prev + summed[:, t])
        stat[:, t] = cur
        since[:, t] = last_zero
        alive = cur[cell] > 0
        run = np.where(alive & use, run + zz[:, t], 0.0)
        contribution[:, t] = run
        last_zero = np.where(cur <= 0, t, last_zero)
        prev = cur
    shape = (n_wards, n_domains, t_count)
    return DomainEvidence(stat.reshape(shape), contribution, since.reshape(shape))
