"""Provider-wide shifts: a common-mode factor per provider and indicator, applied only to broad,
simultaneous changes.

A change that appears on most wards of a provider at once (a new incident-reporting system, a changed
definition, winter sickness) should not become a closed-culture signal on every ward. But several
wards of one provider deteriorating over months (Edenfield) must not be explained away either.

:func:`gated_common_mode_factor` (the default, ``provider_method = "gated"``) multiplies a ward's
expected count at period t by a robust leave-one-out factor **only while the group shows a broad and
simultaneous shift** (the competing explanation "provider-wide change"):

* each ward's level ratio ``r = (Y + 0.5) / (M + 0.5)`` over the trailing ``window`` periods (observed
  and expected sums; data up to t only);
* the group's level ratio ``F_t``: the **median** of the informative wards' ``r`` (those expecting
  at least :data:`INFORMATIVE_EVENTS` events in the window), so a minority of deteriorating wards
  does not move it; with fewer than ``min_wards`` informative wards the gate stays closed;
* **broad**: at least ``min_wards`` wards with data, ``|log F_t| >= log(min_ratio)``, and at least
  ``share`` of them moved the same way by at least half of ``|log F_t|``;
* **simultaneous**: the group was near normal ``window`` periods earlier
  (``sign * log F_{t - window} < log(min_ratio) / 2``) and at least ``share`` of the wards moved
  *within* that window (each was below ``log(min_ratio) / 2`` a window ago): the shift arose on
  most wards at once, as a step or a short ramp does, not as staggered slow drifts of several wards;
* the gate opens when both hold and stays open while the shift keeps the same direction and at least
  half its materiality (``|log F_t| >= log(min_ratio) / 2``);
* the test runs at two time scales, ``window`` periods (steps, short ramps) and a single period
  (sharp shocks such as the Christmas dip in visits). The single period compares with ``window``
  periods earlier too, has its materiality ``log(min_ratio)`` scaled by ``sqrt(window)`` (its
  ratios are that much noisier) and no hysteresis (open only in periods that pass both tests); the
  longer scale wins where both are open;
* while open, ward w's factor is the trimmed pooled ratio of the **other** wards at the same period
  ``(sum y + kappa) / (sum mu + kappa)`` (trimmed by their level ratios); 1 while closed.

Only data up to the scored period are used: no look-ahead. The earlier always-on leave-one-out
factor (:func:`common_mode_factor`, ``provider_method = "leave_one_out"``) is kept as a named method:

    f_w,t = (sum_{w' != w} y_w',t + kappa) / (sum_{w' != w} mu_w',t + kappa)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit, prange

from engine.runtime.kernels import sized

if TYPE_CHECKING:
    from engine.scoring.settings import CombinationSettings

#: A ward informs the provider gate when it expects at least this many events in the window: a
#: sparser ward's level ratio is mostly its zeros, and a median of zeros is not a shift.
INFORMATIVE_EVENTS: float = 2.0
#: Cells of the (S, T) panel from which the gate's compiled pass runs over providers in parallel.
PARALLEL_MIN_CELLS: int = 500_000


def group_index(*keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense integer codes for the combinations of the given ``(S,)`` key arrays."""
    stacked = np.rec.fromarrays([np.asarray(k).astype(str) for k in keys])
    _, codes = np.unique(stacked, return_inverse=True)
    codes = codes.ravel()
    return codes, int(codes.max()) + 1 if codes.size else 0


def common_mode_factor(
    y: np.ndarray,
    mu: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    kappa: float,
) -> np.ndarray:
    """Leave-one-out common-mode factor ``f`` of shape ``(S, T)``.

    Parameters
    ----------
    y, mu:
        ``(S, T)`` observed and expected counts (expected successes for proportions); NaN where not
        observed or no baseline yet. Only periods where both are finite contribute.
    group:
        ``(S,)`` group code of each series: one group per (provider, indicator).
    kappa:
        Shrinkage in expected events: with few events on the other wards ``f`` stays near 1.
    """
    return _factor(ProviderCells.of(y, mu), group, n_groups, kappa)


def scaled_common_mode_factor(
    cells: ProviderCells, group: np.ndarray, n_groups: int, kappa: float
) -> np.ndarray:
    """:func:`common_mode_factor` of the cells ``y / s`` and ``rate * n / s`` (:class:`ProviderCells`).

    Each cell is formed inside the compiled loops, so no ``(S, T)`` temporary is built; the result
    equals composing the arrays with numpy bit for bit (``x / 1.0 == x``).
    """
    return _factor(cells, group, n_groups, kappa)


class ProviderCells(NamedTuple):
    """The ``(S, T)`` cells a provider factor pools: cell (s, t) is ``y / d`` observed and
    ``rate * n / d`` expected with ``d = scale[s, t]`` on the ``(S,)`` bool ``scaled_rows`` (e.g. hours
    over their dispersion: effective events), else ``y`` and ``rate * n``; arrays may be broadcast
    views (``n`` and ``scale`` of ones)."""

    y: np.ndarray
    rate: np.ndarray
    n: np.ndarray
    scale: np.ndarray
    scaled_rows: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, mu: np.ndarray) -> ProviderCells:
        """Unscaled cells of observed ``y`` and expected ``mu``."""
        one = np.broadcast_to(1.0, np.shape(y))
        return cls(y, mu, one, one, np.zeros(np.shape(y)[0], dtype=np.bool_))

    def prepared(self) -> ProviderCells:
        """The cells as the compiled kernels take them (float64 values, bool rows)."""
        y, a, b, div = (np.asarray(x, dtype=np.float64) for x in (self.y, self.rate, self.n, self.scale))
        return ProviderCells(y, a, b, div, np.asarray(self.scaled_rows, dtype=np.bool_))


def _group_sums(c: ProviderCells, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """``(G, T)`` sums of the prepared cells' y and mu where both are finite."""
    y_sum = np.zeros((n_groups, c.y.shape[1]))
    mu_sum = np.zeros((n_groups, c.y.shape[1]))
    _masked_group_sums(*c, group, y_sum, mu_sum)
    return y_sum, mu_sum


def _factor(cells: ProviderCells, group: np.ndarray, n_groups: int, kappa: float) -> np.ndarray:
    c = cells.prepared()
    group = np.asarray(group, dtype=np.int64)
    y_sum, mu_sum = _group_sums(c, group, n_groups)
    return _leave_one_out(*c, group, y_sum, mu_sum, float(kappa))


@njit(nogil=True, cache=True, inline="always", error_model="numpy")
def _cell(yv, av, bv, dv, scaled):
    """``(y, mu)`` of one cell from its values ``y``, ``rate``, ``n``, ``scale`` and its row's flag.

    Scalars only: the callers read the cells. Taking the arrays and indices instead, inlined into
    the per-cell loops, made :func:`_gated` ~20% slower with identical results.
    """
    mv = av * bv
    if scaled:
        return yv / dv, mv / dv
    return yv, mv


@njit(cache=True, nogil=True, error_model="numpy")
def _masked_group_sums(y, a, b, div, scaled, group, y_sum, mu_sum):
    """Group sums of y and mu over the periods where both are finite (0.0 added elsewhere, in row
    order: the same floating-point sums as ``np.add.at`` of the zero-filled arrays)."""
    for s in range(y.shape[0]):
        g = group[s]
        for t in range(y.shape[1]):
            yv, mv = _cell(y[s, t], a[s, t], b[s, t], div[s, t], scaled[s])
            ok = np.isfinite(yv) and np.isfinite(mv)
            y_sum[g, t] += yv if ok else 0.0
            mu_sum[g, t] += mv if ok else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _leave_one_out(y, a, b, div, scaled, group, y_sum, mu_sum, kappa):
    out = np.empty(y.shape)
    for s in range(y.shape[0]):
        g = group[s]
        for t in range(y.shape[1]):
            yv, mv = _cell(y[s, t], a[s, t], b[s, t], div[s, t], scaled[s])
            ok = np.isfinite(yv) and np.isfinite(mv)
            y0 = yv if ok else 0.0
            mu0 = mv if ok else 0.0
            out[s, t] = (y_sum[g, t] - y0 + kappa) / (mu_sum[g, t] - mu0 + kappa)
    return out


def pooled_by_group(
    y: np.ndarray, mu: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(G, T)`` pooled observed and expected counts over the periods where both are finite."""
    return _group_sums(ProviderCells.of(y, mu).prepared(), np.asarray(group, dtype=np.int64), n_groups)


FAMILY_CODES: dict[str, int] = {"count": 0, "proportion": 1, "measure": 2}


def pooled_moments(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    family: np.ndarray,
    group: np.ndarray,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(G, T)`` pooled observed, expected, in-control variance and number of contributing series.

    The provider-wide CUSUM's inputs in one pass, with no ``(S, T)`` temporary. Per cell: the
    observation ``y`` (NaN where not ``observed``), its expectation ``mu = rate * n`` and variance
    (:func:`engine.detectors.scores.variance` of the series' ``family``: NB ``mu + alpha mu^2``,
    beta-binomial ``mu (1 - p)(1 + (n - 1) rho)``, quasi-Poisson ``phi mu``; 0 for other families).
    Observed and expected are pooled where both are finite (as :func:`pooled_by_group`); variance
    and count where all three are. Sums run in row order, so they equal ``np.add.at`` of the masked
    arrays bit for bit.
    """
    shape = (n_groups, y.shape[1])
    out = (np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape))
    _pooled_moments(
        *_cells(y, observed, n, rate, dispersion, family), np.asarray(group, dtype=np.int64), *out
    )
    return out


def _cells(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    family: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The per-cell inputs of :func:`_cell_moments` as the kernels take them (family as codes, -1
    for a family not in ``FAMILY_CODES``)."""
    return (
        np.ascontiguousarray(y, dtype=np.float64),
        np.ascontiguousarray(observed, dtype=np.bool_),
        np.ascontiguousarray(n, dtype=np.float64),
        np.ascontiguousarray(rate, dtype=np.float64),
        np.ascontiguousarray(dispersion, dtype=np.float64),
        np.array([FAMILY_CODES.get(str(f), -1) for f in family], dtype=np.int64),
    )


@njit(cache=True, nogil=True, error_model="numpy")
def _cell_moments(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    fam: int,
    s: int,
    t: int,
) -> tuple[float, float, float]:
    """Observation (NaN where not observed), expectation and in-control variance of cell (s, t)
    (:func:`engine.detectors.scores.variance` of family code ``fam``; 0 for an unknown family)."""
    yv = y[s, t] if observed[s, t] else np.nan
    mu = rate[s, t] * n[s, t]
    d = dispersion[s, t]
    if fam == 0:
        var = mu + d * mu * mu
    elif fam == 1:
        var = mu * (1.0 - rate[s, t]) * (1.0 + (n[s, t] - 1.0) * d)
    elif fam == 2:
        var = d * mu
    else:
        var = 0.0
    return yv, mu, var


@njit(cache=True, nogil=True, error_model="numpy")
def _pooled_moments(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    family: np.ndarray,
    group: np.ndarray,
    y_sum: np.ndarray,
    mu_sum: np.ndarray,
    var_sum: np.ndarray,
    count: np.ndarray,
) -> None:
    for s in range(y.shape[0]):
        g, fam = group[s], family[s]
        for t in range(y.shape[1]):
            yv, mu, var = _cell_moments(y, observed, n, rate, dispersion, fam, s, t)
            both = np.isfinite(yv) and np.isfinite(mu)
            y_sum[g, t] += yv if both else 0.0
            mu_sum[g, t] += mu if both else 0.0
            ok = both and np.isfinite(var)
            var_sum[g, t] += var if ok else 0.0
            count[g, t] += 1.0 if ok else 0.0


def broad_shifts(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    family: np.ndarray,
    members: tuple[np.ndarray, np.ndarray],
    group: np.ndarray,
    start: np.ndarray,
    sign: float,
    window: int,
    min_wards: int,
    share: float,
    min_ratio: float,
) -> np.ndarray:
    """``(E,)`` whether each pooled provider shift (group ``group[e]`` opening at ``start[e]``) is broad.

    Over the ``window`` periods up to and including ``start[e]`` (data known then), each member
    series' observed and expected counts are summed over the cells where observation, expectation and
    variance (as :func:`pooled_moments`) are all finite. Members with an expected sum above 0 count.
    The shift is broad when at least ``min_wards`` members count, at least ``share`` of them moved in
    the direction ``sign`` (+1 rise, -1 fall), and the pooled ratio of observed to expected reaches
    ``min_ratio`` (``1 / min_ratio`` or below for a fall). ``members`` is the CSR index
    ``(order, bounds)`` of :func:`engine.combine.rowgroups.group_rows` over the groups. Sums run in
    period order, then in member order.
    """
    cells = _cells(y, observed, n, rate, dispersion, family)
    codes = cells[-1]
    if (codes < 0).any():
        raise ValueError(f"unknown family {family[np.argmax(codes < 0)]!r}")
    order, bounds = members
    out = np.zeros(len(group), dtype=np.bool_)
    _broad_shifts(
        *cells,
        np.asarray(order, dtype=np.int64),
        np.asarray(bounds, dtype=np.int64),
        np.asarray(group, dtype=np.int64),
        np.asarray(start, dtype=np.int64),
        float(sign),
        int(window),
        int(min_wards),
        float(share),
        float(min_ratio),
        out,
    )
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _broad_shifts(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    family: np.ndarray,
    order: np.ndarray,
    bounds: np.ndarray,
    group: np.ndarray,
    start: np.ndarray,
    sign: float,
    window: int,
    min_wards: int,
    share: float,
    min_ratio: float,
    out: np.ndarray,
) -> None:
    for e in range(group.shape[0]):
        g, last = group[e], start[e]
        first = max(0, last - window + 1)
        counted, same_side, y_pool, mu_pool = 0, 0, 0.0, 0.0
        for i in range(bounds[g], bounds[g + 1]):
            s = order[i]
            fam = family[s]
            y_sum, mu_sum = 0.0, 0.0
            for t in range(first, last + 1):
                yv, mu, var = _cell_moments(y, observed, n, rate, dispersion, fam, s, t)
                if np.isfinite(yv) and np.isfinite(mu) and np.isfinite(var):
                    y_sum += yv
                    mu_sum += mu
            if mu_sum > 0:
                counted += 1
                same_side += 1 if sign * (y_sum - mu_sum) > 0 else 0
                y_pool += y_sum
                mu_pool += mu_sum
        if counted < min_wards:
            continue
        pooled = y_pool / mu_pool
        material = pooled >= min_ratio if sign > 0 else pooled <= 1.0 / min_ratio
        out[e] = same_side / counted >= share and material


def gated_common_mode_factor(
    cells: ProviderCells,
    group: np.ndarray,
    n_groups: int,
    kappa: float,
    window: int,
    trim: float,
    share: float,
    min_ratio: float,
    min_wards: int,
    min_expected: float = INFORMATIVE_EVENTS,
) -> tuple[np.ndarray, np.ndarray]:
    """Gated robust common-mode factor (module docstring) and the gate.

    ``cells``: observed and expected as :class:`ProviderCells` (``y / s`` and ``rate * n / s``).

    Returns
    -------
    factor:
        ``(S, T)`` multiplier of each series' expected rate (1 where the gate is closed).
    gate:
        ``(G, T)`` int8: +1 / -1 while a broad simultaneous rise / fall of group g is open, else 0.
    """
    if window < 1 or not 0 <= trim < 0.5 or not 0 < share <= 1 or min_ratio < 1:
        raise ValueError("need window >= 1, 0 <= trim < 0.5, 0 < share <= 1 and min_ratio >= 1")
    c = cells.prepared()
    group = np.asarray(group, dtype=np.int64)
    order = np.argsort(group, kind="stable").astype(np.int64)
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1)).astype(np.int64)
    factor: np.ndarray | None = None
    gate: np.ndarray | None = None
    # two time scales: ``window`` periods (steps, short ramps) and one period (sharp shocks)
    for w in sorted({int(window), 1}, reverse=True):
        out = np.ones(c.y.shape)
        g = np.zeros((n_groups, c.y.shape[1]), dtype=np.int8)
        # a shorter window's ratios are noisier: its materiality grows as sqrt(window / w)
        log_min = float(np.log(min_ratio) * np.sqrt(window / w))
        _gated(*c, order, bounds, float(kappa), w, int(window), w == window, float(trim), float(share),
               log_min, int(min_wards), float(min_expected), out, g)  # fmt: skip
        if factor is None or gate is None:
            factor, gate = out, g
            continue
        use = (gate == 0) & (g != 0)
        gate = np.where(use, g, gate)
        np.copyto(factor, out, where=use[group])  # = np.where(use[group], out, factor), in place
    assert factor is not None and gate is not None  # the loop runs at least once
    return factor, gate


@njit(cache=True, nogil=True, error_model="numpy")
def _median_inplace(buf, n):
    """Median of ``buf[:n]`` (insertion sort in place; ``n`` is a provider's ward count)."""
    for i in range(1, n):
        v = buf[i]
        j = i - 1
        while j >= 0 and buf[j] > v:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = v
    h = n // 2
    return buf[h] if n % 2 else 0.5 * (buf[h - 1] + buf[h])


@sized(PARALLEL_MIN_CELLS)
@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def _gated(
    y,
    a,
    b,
    div,
    scaled,
    order,
    bounds,
    kappa,
    window,
    lag,
    hold,
    trim,
    share,
    log_min,
    min_wards,
    min_expected,
    out,
    gate,
):
    t_count = y.shape[1]
    for g in prange(bounds.shape[0] - 1):  # groups are independent (their own rows of out, gate)
        rows = order[bounds[g] : bounds[g + 1]]
        m = rows.shape[0]
        if m < 2:
            continue
        yw = np.zeros((m, t_count))  # finite cells (0 elsewhere) and their flags
        mw = np.zeros((m, t_count))
        for i in range(m):
            for t in range(t_count):
                r = rows[i]
                yv, mv = _cell(y[r, t], a[r, t], b[r, t], div[r, t], scaled[r])
                if np.isfinite(yv) and np.isfinite(mv):
                    yw[i, t], mw[i, t] = yv, mv
        ywin = np.zeros(m)
        mwin = np.zeros(m)
        ratio = np.zeros(m)
        valid = np.zeros(m, dtype=np.bool_)
        buf = np.empty(m)
        ranked = np.empty(m, dtype=np.int64)
        log_f = np.zeros(t_count)
        history = np.zeros((m, t_count))  # each ward's log level ratio (0 without data)
        state = 0
        for t in range(t_count):
            nv = 0
            for i in range(m):
                ywin[i] += yw[i, t]
                mwin[i] += mw[i, t]
                if t >= window:
                    ywin[i] -= yw[i, t - window]
                    mwin[i] -= mw[i, t - window]
                valid[i] = mwin[i] >= min_expected
                if valid[i]:
                    ratio[i] = np.log((ywin[i] + 0.5) / (mwin[i] + 0.5))
                    history[i, t] = ratio[i]
                    buf[nv] = ratio[i]
                    nv += 1
            if nv == 0:
                state = 0
                continue
            log_f[t] = _median_inplace(buf, nv)
            if nv < min_wards:
                state = 0
                continue
            sign = 1 if log_f[t] > 0 else -1
            # wards that moved this way, and those among them that were near normal a window ago
            moved, fresh = 0, 0
            for i in range(m):
                if valid[i] and sign * ratio[i] >= 0.5 * abs(log_f[t]):
                    moved += 1
                    if t < lag or sign * history[i, t - lag] < 0.5 * log_min:
                        fresh += 1
            broad = nv >= min_wards and abs(log_f[t]) >= log_min and moved >= share * nv
            before = log_f[t - lag] if t >= lag else 0.0
            full = t >= window - 1  # a full window of data
            sudden = full and sign * before < 0.5 * log_min and fresh >= share * nv
            # hysteresis: an open gate stays open while the shift keeps half its materiality
            holds = hold and state == sign and nv >= min_wards and abs(log_f[t]) >= 0.5 * log_min
            state = sign if (broad and sudden) or holds else 0
            gate[g, t] = state
            if state == 0:
                continue
            # the valid wards ranked by level ratio (insertion sort into ``ranked``)
            nr = 0
            for i in range(m):
                if not valid[i]:
                    continue
                j = nr - 1
                while j >= 0 and ratio[ranked[j]] > ratio[i]:
                    ranked[j + 1] = ranked[j]
                    j -= 1
                ranked[j + 1] = i
                nr += 1
            for i in range(m):
                # the other valid wards, minus floor(trim * count) at each end of the ranking
                others = nr - 1 if valid[i] else nr
                k = int(np.floor(trim * others))
                ys, ms, pos = 0.0, 0.0, 0
                for jj in range(nr):
                    j = ranked[jj]
                    if j == i:
                        continue
                    if k <= pos < others - k:
                        ys += yw[j, t]
                        ms += mw[j, t]
                    pos += 1
                out[rows[i], t] = (ys + kappa) / (ms + kappa)


def provider_factor(
    y: np.ndarray,
    rate: np.ndarray,
    n: np.ndarray,
    scale: np.ndarray,
    scaled_rows: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    settings: CombinationSettings,
) -> np.ndarray:
    """``(S, T)`` provider factor of the configured ``provider_method`` (module docstring), of the cells
    ``ProviderCells(y, rate, n, scale, scaled_rows)``."""
    cells = ProviderCells(y, rate, n, scale, scaled_rows)
    if settings.provider_method == "leave_one_out":
        return scaled_common_mode_factor(cells, group, n_groups, settings.provider_kappa)
    factor, _ = gated_common_mode_factor(
        cells, group, n_groups, settings.provider_kappa,
        settings.provider_window, settings.provider_trim, settings.provider_gate_share,
        settings.provider_min_ratio, settings.provider_min_wards,
    )  # fmt: skip
    return factor


def wards_at_level(level: np.ndarray, group: np.ndarray, n_groups: int, min_level: int) -> np.ndarray:
    """``(G, T)`` number of wards of each group whose ``(W, T)`` level code is at least ``min_level``."""
    counts = np.zeros((n_groups, level.shape[1]), dtype=np.int64)
    np.add.at(counts, np.asarray(group, dtype=np.int64), (level >= min_level).astype(np.int64))
    return counts
