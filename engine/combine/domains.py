"""Joint log-likelihood-ratio CUSUM per ward and domain (see docs/combination.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    cells = _block_cells(blocks, n_domains)
    summed = _summed_increments(blocks, cells, n_wards * n_domains)
    stat = np.empty_like(summed)
    since = np.empty(summed.shape, dtype=np.int64)
    _page_cusum(summed, stat, since)
    contributions = _contributions(blocks, cells, lambda z, cell, out: _runs_while_alive(z, cell, stat, out))
    return _by_ward(stat, since, contributions, n_wards, n_domains)


def _block_cells(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], n_domains: int
) -> list[np.ndarray]:
    """Each block's ``(S,)`` row of the ``(W * D, T)`` ward-domain panel (-1 outside a culture domain)."""
    return [
        np.where(domain >= 0, ward * n_domains + domain, -1).astype(np.int64) for _, ward, domain in blocks
    ]


def _summed_increments(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], cells: list[np.ndarray], n_rows: int
) -> np.ndarray:
    """``(W * D, T)`` increments summed per ward and domain over the blocks' rows in order (NaN as 0)."""
    summed = np.zeros((n_rows, blocks[0][0].shape[1] if blocks else 0))
    for (z, _, _), cell in zip(blocks, cells, strict=True):
        group_sum(z, cell, n_rows, out=summed, nan_to_num=True)
    return summed


def _contributions(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    cells: list[np.ndarray],
    fill: Callable[[np.ndarray, np.ndarray, np.ndarray], None],
) -> list[np.ndarray]:
    """Each block's ``(S, T)`` contributions, written by ``fill(z, cell, out)`` (a compiled pass)."""
    out = []
    for (z, _, _), cell in zip(blocks, cells, strict=True):
        contribution = np.empty(z.shape)
        fill(np.ascontiguousarray(z, dtype=np.float64), cell, contribution)
        out.append(contribution)
    return out


def _by_ward(
    stat: np.ndarray, since: np.ndarray, contributions: list[np.ndarray], n_wards: int, n_domains: int
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """``(statistic, since, contributions)`` with the ``(W * D, T)`` panels as ``(W, D, T)``."""
    shape = (n_wards, n_domains, stat.shape[1])
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


#: Domain rules: ``joint`` (Page's CUSUM of the summed increments), ``mei`` (sum of per-indicator
#: CUSUMs, Mei 2010), ``mixture`` (``sum_i log(1 - p0 + p0 exp(C_i))`` over per-indicator CUSUMs,
#: each with its own onset) and ``onset_mixture`` (Xie & Siegmund 2013: the same mixture over the
#: indicators' sums from one common onset, maximised over the onset in the window).
DOMAIN_RULES: tuple[str, ...] = ("joint", "mei", "mixture", "onset_mixture")


def domain_statistic_blocks(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n_wards: int,
    n_domains: int,
    rule: str = "joint",
    p0: float = 0.3,
    window: int = 0,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Domain statistics by ``rule`` (see :data:`DOMAIN_RULES`): ``(statistic, since, contributions)``.

    ``window > 0`` (joint rule only) limits the evidence to the last ``window`` periods
    (:func:`window_limited_blocks`).

    ``joint`` is :func:`domain_cusum_blocks`. ``mei`` and ``mixture`` run Page's CUSUM ``C_i`` on each
    series' own increments and add a transform of it over the ward's series of the domain, so an
    indicator that has not moved (``C_i = 0``) adds nothing instead of a negative drift: ``mei`` adds
    ``C_i``; ``mixture`` adds ``log(1 - p0 + p0 exp(C_i))``, the log-likelihood ratio of "each
    indicator moved with probability ``p0``" (about ``C_i + log p0`` for a large ``C_i``, about
    ``p0 C_i`` for a small one). ``since`` is the last period before ``t`` at which the domain
    statistic was zero (every series' CUSUM at zero); contributions as in :func:`domain_cusum_blocks`.
    """
    if rule == "joint":
        if window > 0:
            return window_limited_blocks(blocks, n_wards, n_domains, window)
        return domain_cusum_blocks(blocks, n_wards, n_domains)
    if rule not in DOMAIN_RULES:
        raise ValueError(f"unknown domain rule {rule!r}; expected one of {DOMAIN_RULES}")
    if rule in ("mixture", "onset_mixture") and not 0 < p0 <= 1:
        raise ValueError("mixture p0 must be in (0, 1]")
    if rule == "onset_mixture":
        return onset_mixture_blocks(blocks, n_wards, n_domains, p0, window)
    t_count = blocks[0][0].shape[1] if blocks else 0
    stat = np.zeros((n_wards * n_domains, t_count))
    cells = _block_cells(blocks, n_domains)
    for (z, _, _), cell in zip(blocks, cells, strict=True):
        _series_cusum_sum(np.ascontiguousarray(z, dtype=np.float64), cell, stat, rule == "mixture", float(p0))
    since = np.empty(stat.shape, dtype=np.int64)
    _last_zero(stat, since)
    contributions = _contributions(blocks, cells, lambda z, cell, out: _runs_while_alive(z, cell, stat, out))
    return _by_ward(stat, since, contributions, n_wards, n_domains)


@njit(cache=True, nogil=True)
def _series_cusum_sum(z: np.ndarray, cell: np.ndarray, out: np.ndarray, mixture: bool, p0: float) -> None:
    """Add each series' Page CUSUM (or its mixture transform) to its ward-domain row of ``out``."""
    log_q = np.log(1.0 - p0) if p0 < 1.0 else -np.inf
    log_p = np.log(p0)
    for s in range(z.shape[0]):
        c = cell[s]
        if c < 0:
            continue
        cur = 0.0
        for t in range(z.shape[1]):
            v = cur + finite(z[s, t])
            cur = v if v > 0.0 else 0.0
            if not mixture:
                out[c, t] += cur
            elif cur > 0.0:
                # log(1 - p0 + p0 e^C), computed stably; exactly 0 at C = 0
                a, b = log_q, log_p + cur
                m = a if a > b else b
                out[c, t] += m + np.log(np.exp(a - m) + np.exp(b - m))


@njit(cache=True, nogil=True)
def _last_zero(stat: np.ndarray, since: np.ndarray) -> None:
    """``since[c, t]``: the last period before ``t`` at which ``stat[c]`` was <= 0 (-1: none)."""
    for c in range(stat.shape[0]):
        last_zero = -1
        for t in range(stat.shape[1]):
            since[c, t] = last_zero
            if stat[c, t] <= 0.0:
                last_zero = t


def window_limited_blocks(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], n_wards: int, n_domains: int, window: int
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Window-limited joint CUSUM (Lai 1995): ``D_t = max(0, max_{t - L < k <= t} sum_{u=k}^{t} z_u)``.

    Page's CUSUM keeps evidence for as long as its statistic stays above zero; where the in-control
    drift per period is small (a few events a month), one unsettled spell keeps a domain high for many
    months and turns any later chance move of another domain into ``concern``. Limiting the evidence
    to the last ``L`` periods forgets it after ``L`` periods; with ``L`` at least the detection
    horizon nothing an episode builds up within the horizon is lost. ``since`` is the period before the
    maximising ``k`` (the onset estimate, ``-1`` when that is period 0), and each series'
    contribution is its summed increments over ``(since, t]`` (0 where the statistic is 0).
    ``O(L)`` per ward, domain and period; ``O(1)`` per series and period for the contributions.
    """
    cells = _block_cells(blocks, n_domains)
    summed = _summed_increments(blocks, cells, n_wards * n_domains)
    stat = np.empty_like(summed)
    since = np.empty(summed.shape, dtype=np.int64)
    _window_cusum(summed, int(window), stat, since)
    contributions = _contributions(blocks, cells, lambda z, cell, out: _sum_since(z, cell, stat, since, out))
    return _by_ward(stat, since, contributions, n_wards, n_domains)


@njit(cache=True, nogil=True)
def _window_cusum(summed: np.ndarray, window: int, stat: np.ndarray, since: np.ndarray) -> None:
    for c in range(summed.shape[0]):
        for t in range(summed.shape[1]):
            best, arg, run = 0.0, t, 0.0
            lo = max(t - window + 1, 0)
            for k in range(t, lo - 1, -1):  # sums over [k, t], k going back
                run += finite(summed[c, k])
                if run > best:
                    best, arg = run, k
            stat[c, t] = best
            since[c, t] = arg - 1


@njit(cache=True, nogil=True)
def _sum_since(z: np.ndarray, cell: np.ndarray, stat: np.ndarray, since: np.ndarray, out: np.ndarray) -> None:
    """Each series' increments summed over ``(since, t]`` of its domain (0 where the statistic is 0)."""
    t_count = z.shape[1]
    cum = np.empty(t_count + 1)
    for s in range(z.shape[0]):
        c = cell[s]
        cum[0] = 0.0
        for t in range(t_count):
            cum[t + 1] = cum[t] + finite(z[s, t])
        for t in range(t_count):
            if c >= 0 and stat[c, t] > 0:
                out[s, t] = cum[t + 1] - cum[since[c, t] + 1]
            else:
                out[s, t] = 0.0


def culture_total_blocks(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n_wards: int,
    window: int = 0,
    rule: str = "joint",
    p0: float = 0.3,
) -> np.ndarray:
    """``(W, T)`` one joint CUSUM per ward over every culture indicator's increments (nats).

    The same increments the domain statistics sum (series with ``domain >= 0``; NaN as 0), summed over
    all culture domains of the ward: ``T_t = max(0, max_{t - L < k <= t} sum_{u=k}^{t} z_u)`` with
    ``L = window`` (Lai 1995, as the domain statistic), or Page's CUSUM when ``window <= 0``. It is the
    joint likelihood-ratio evidence that the ward's culture indicators moved, without the split into
    domains (docs/combination.md, the ``gated_total`` concern rule). ``O(L)`` per ward and period.
    With ``rule = "onset_mixture"`` it is instead the common-onset mixture of
    :func:`onset_mixture_blocks` over all the ward's culture indicators (``O(L n)`` per ward and period).
    """
    if rule == "onset_mixture":
        culture = [(z, ward, np.where(domain >= 0, 0, -1)) for z, ward, domain in blocks]
        return onset_mixture_blocks(culture, n_wards, 1, p0, window)[0][:, 0, :]
    cells = [np.where(domain >= 0, ward, -1).astype(np.int64) for _, ward, domain in blocks]
    summed = _summed_increments(blocks, cells, n_wards)
    stat = np.empty_like(summed)
    since = np.empty(summed.shape, dtype=np.int64)
    if window > 0:
        _window_cusum(summed, int(window), stat, since)
    else:
        _page_cusum(summed, stat, since)
    return stat


def onset_mixture_blocks(
    blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    n_wards: int,
    n_domains: int,
    p0: float,
    window: int,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Window-limited Xie-Siegmund mixture with a common onset, per ward and domain (nats):

        D_t = max(0, max_{t - L < k <= t} sum_{i in d} log(1 - p0 + p0 exp(S_i(k, t)))),
        S_i(k, t) = sum_{u=k}^{t} z_i,u

    the log-likelihood ratio of "from period k each indicator of the domain moved with probability
    ``p0``, independently", maximised over the onset (Xie & Siegmund 2013). An indicator that has
    not moved costs at most ``-log(1 - p0)`` instead of the joint CUSUM's growing negative drift; one
    that moved adds about ``S_i + log p0``. ``p0 = 1`` is the window-limited joint CUSUM. ``L`` =
    ``window`` (the whole history when ``window <= 0``). ``since`` and contributions as in
    :func:`window_limited_blocks` (each series' increments over ``(since, t]``). ``O(L n_d)`` per
    ward, domain and period, with ``n_d`` the domain's series.
    """
    cells = _block_cells(blocks, n_domains)
    t_count = blocks[0][0].shape[1] if blocks else 0
    z = (
        np.concatenate([np.nan_to_num(np.asarray(b[0], dtype=np.float64)) for b in blocks])
        if blocks
        else np.zeros((0, 0))
    )
    cell = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
    n_cells = n_wards * n_domains
    order = np.argsort(cell, kind="stable")
    order = order[cell[order] >= 0]
    starts = np.searchsorted(cell[order], np.arange(n_cells + 1)).astype(np.int64)
    stat = np.zeros((n_cells, t_count))
    since = np.full((n_cells, t_count), -1, dtype=np.int64)
    log_q = float(np.log1p(-p0)) if p0 < 1 else -np.inf
    _onset_mixture(
        z,
        order.astype(np.int64),
        starts,
        window if window > 0 else t_count,
        float(np.log(p0)),
        log_q,
        stat,
        since,
    )
    contributions = _contributions(blocks, cells, lambda zz, c, out: _sum_since(zz, c, stat, since, out))
    return _by_ward(stat, since, contributions, n_wards, n_domains)


@njit(cache=True, nogil=True)
def _log_mix(x: float, log_p: float, log_q: float) -> float:
    """``log(exp(log_q) + exp(log_p + x))`` computed stably."""
    a = log_p + x
    if log_q == -np.inf:
        return a
    if a > log_q:
        return a + np.log1p(np.exp(log_q - a))
    return log_q + np.log1p(np.exp(a - log_q))


@njit(cache=True, nogil=True)
def _onset_mixture(
    z: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    window: int,
    log_p: float,
    log_q: float,
    stat: np.ndarray,
    since: np.ndarray,
) -> None:
    """:func:`onset_mixture_blocks`' statistic and onset (``order[starts[c]:starts[c+1]]`` are cell
    ``c``'s rows of ``z``)."""
    t_count = z.shape[1]
    for c in range(starts.shape[0] - 1):
        a, b = starts[c], starts[c + 1]
        n = b - a
        if n == 0:
            continue
        run = np.empty(n)
        for t in range(t_count):
            run[:] = 0.0
            best, arg = 0.0, t
            lo = max(t - window + 1, 0)
            for k in range(t, lo - 1, -1):  # sums over [k, t], k going back
                v = 0.0
                for j in range(n):
                    run[j] += z[order[a + j], k]
                    v += _log_mix(run[j], log_p, log_q)
                if v > best:
                    best, arg = v, k
            stat[c, t] = best
            since[c, t] = arg - 1
