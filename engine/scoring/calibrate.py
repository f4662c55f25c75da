"""Calibration of the whole: thresholds that meet a trust-wide false-alarm budget, by simulation.

Thousands of charts are watched at once, so thresholds are set for the trust, not the chart:

1. Score the real data once to fit every series' causal baseline (rate and overdispersion).
2. Draw ``R`` in-control replicates of the whole trust from those baselines (negative binomial counts,
   beta-binomial proportions, quasi-Poisson measures), with the trust's own exposures, missing and
   suppressed cells, wards, providers and events.
3. Run the same evidence pipeline on each replicate (baselines re-fitted, provider adjustment,
   detectors, domain CUSUMs). The statistics do not depend on the thresholds, so one run per
   replicate gives the false-alarm rate for every candidate threshold: the number of alerts that
   would open (with the same hysteresis as scoring) per ward-year of monitored time.
4. Take the smallest threshold whose estimated rate meets the target; report the rate with its Monte
   Carlo standard error (openings treated as Poisson over the simulated ward-years).

Monitored time is ward-weeks after the warm-up (alerts cannot open before a baseline exists).

**Dependence.** Indicators of one ward move together (an unsettled week raises restraint, seclusion
and injuries at once; staffing pressure persists for months), and an in-control model that draws them
independently underestimates false alarms of the joint domain CUSUMs. The replicates therefore carry
mean-one latent multipliers (:class:`LatentFactor`, per cadence and domain), all estimated by moments
of *relative* residuals ``y / mu - 1`` (unattenuated for rare counts, weighted by their inverse
sampling variance), each moment a trimmed mean over wards (:data:`WARD_TRIM`) so that the real
changes in the history are not taken for noise:

* a **ward-wide** AR(1) factor shared by every culture domain (signed loading per domain, rank-one
  fit of the cross-domain covariances, which share no sampling noise);
* a **domain** AR(1) factor (cross-indicator covariances at lags 1 and 2) and a same-week **linked**
  factor (the excess same-week covariance of indicators that count the same events: prone restraints
  are restraints, seclusion hours come from seclusion starts);
* each series' **own** persistent AR(1) component (covariances with itself 1 and 4 periods apart) and
  its **random-walk drift** (variogram at 13 against 39 weeks: a usual rate wandering away from the
  level a frozen baseline learnt).

**Levels not taken as known.** A replicate's true level of each series is its fitted level times a
mean-one gamma with the estimate's own squared CV (recovered from the predictive dispersion), so the
simulated wards are as heterogeneous around their peers as real ones and the re-estimated, shrunk
baselines carry the same error as the real ones.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from engine.alerting import alert_episodes, openings
from engine.combine.levels import CONCERN, WATCH, LevelThresholds, constellation_strength, ward_levels
from engine.config import Config
from engine.contract.observations import MISSING, OBSERVED, STATUS_LABELS
from engine.panel import distinct_keys
from engine.scoring.indicators import SeriesScores
from engine.scoring.run import evidence_frames
from engine.scoring.settings import CombinationSettings
from engine.scoring.wards import WardEvidence, level_thresholds
from signals import CULTURE_DOMAINS, Catalogue

THRESHOLD_GRID = np.round(np.arange(1.0, 25.0001, 0.25), 2)
#: Weeks after a simulated single-domain change still counted as its window (as in the evaluation).
_DECOY_GRACE = 8


@dataclass(frozen=True)
class CalibrationReport:
    """Simulated false-alarm rates per ward-year against candidate thresholds (nats).

    Attributes
    ----------
    grid:
        Candidate thresholds.
    concern_rate, concern_se:
        False ``concern`` alerts per ward-year at each threshold, and Monte Carlo standard errors.
    decoy_rate, decoys:
        Share of the simulated single-domain changes (``decoys`` of them, see
        :func:`single_domain_changes`) during which a concern alert opened, at each threshold.
    watch_rate, watch_share:
        False ``watch`` openings per ward-year, and the share of monitored ward-weeks at ``watch`` or
        above, when ``watch_threshold`` (the constellation strength of two or more domains at or
        above it, :func:`~engine.combine.levels.constellation_strength`) is each grid value.
    urgent_rate:
        False ``urgent`` alerts per ward-year when ``urgent_threshold`` is each grid value and the
        concern threshold is the chosen one.
    indicator_rate:
        False indicator CUSUM alerts per ward-year at each common CUSUM threshold.
    silence_rate:
        False zero-run silence alerts per ward-year (its level is a fixed probability). Data-silence
        alerts are not counted: the replicates keep the trust's real gaps in submission.
    ward_years:
        Monitored ward-years simulated (all replicates).
    concern_threshold, urgent_threshold, cusum_threshold, watch_threshold:
        The thresholds chosen for the targets (``watch_threshold`` at most ``concern_threshold``).
    replicates, seed:
        Simulation size and seed.
    factors:
        Latent noise per cadence and domain used in the replicates (empty: independent indicators).
    """

    grid: np.ndarray
    concern_rate: np.ndarray
    concern_se: np.ndarray
    urgent_rate: np.ndarray
    indicator_rate: np.ndarray
    watch_rate: np.ndarray
    watch_share: np.ndarray
    decoy_rate: np.ndarray
    decoys: int
    silence_rate: float
    ward_years: float
    concern_threshold: float
    urgent_threshold: float
    cusum_threshold: float
    watch_threshold: float
    replicates: int
    seed: int
    factors: dict[str, dict[str, LatentFactor]]

    def rate_at(self, threshold: float) -> tuple[float, float]:
        """Concern rate and its standard error at a grid threshold."""
        i = int(np.argmin(np.abs(self.grid - threshold)))
        return float(self.concern_rate[i]), float(self.concern_se[i])

    def table(self) -> pl.DataFrame:
        """One row per candidate threshold."""
        return pl.DataFrame(
            {
                "threshold": self.grid,
                "false_concern_per_ward_year": self.concern_rate,
                "se": self.concern_se,
                "false_urgent_per_ward_year": self.urgent_rate,
                "false_indicator_alerts_per_ward_year": self.indicator_rate,
                "false_watch_per_ward_year": self.watch_rate,
                "watch_share": self.watch_share,
                "single_domain_escalation": self.decoy_rate,
            }
        )

    def apply(self, config: Config) -> Config:
        """The configuration with the calibrated thresholds."""
        comb = dataclasses.replace(
            config.combination,
            concern_threshold=self.concern_threshold,
            urgent_threshold=max(self.urgent_threshold, self.concern_threshold),
            cusum_threshold=self.cusum_threshold,
            watch_threshold=min(self.watch_threshold, self.concern_threshold),
        )
        return dataclasses.replace(config, combination=comb)


def _fill_back(a: np.ndarray) -> np.ndarray:
    """Fill NaNs before each row's first finite value with that value (in-control warm-up)."""
    out = a.copy()
    finite = np.isfinite(out)
    first = np.where(finite.any(axis=1), np.argmax(finite, axis=1), 0)
    first_val = out[np.arange(out.shape[0]), first]
    before = np.arange(out.shape[1])[None, :] < first[:, None]
    out[before] = np.broadcast_to(first_val[:, None], out.shape)[before]
    # later gaps (e.g. a rebase warm-up) carry the previous finite value forward
    idx = np.where(np.isfinite(out), np.arange(out.shape[1])[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    return out[np.arange(out.shape[0])[:, None], idx]


@dataclass(frozen=True)
class LatentFactor:
    """Latent log-scale noise of one domain (per period of its cadence).

    ``b``, ``rho``: loading and AR(1) coefficient of the factor shared by a ward's indicators.
    ``own_sd``, ``own_rho``: standard deviation and AR(1) coefficient of each series' own persistent
    component (slow drift of one indicator that a frozen baseline does not follow).
    ``ward_b``, ``ward_rho``: signed loading of the domain on the ward-wide factor shared by *all*
    culture domains of a ward (an unsettled week raises restraint and injuries together), and that
    factor's AR(1) coefficient (the same for every domain of a cadence).
    ``same_b``: loading of a week-to-week independent factor of the ward and domain: the excess
    same-period covariance of different indicators (linked indicators count the same events: prone
    restraints are restraints, seclusion hours come from seclusion starts).
    ``drift_sd``: standard deviation per period of each series' own log-scale random walk: a usual
    rate that wanders away from the level a frozen baseline learnt, further with every month.
    """

    b: float
    rho: float
    own_sd: float = 0.0
    own_rho: float = 0.0
    ward_b: float = 0.0
    ward_rho: float = 0.0
    same_b: float = 0.0
    drift_sd: float = 0.0


def _relative_residual(sc: SeriesScores) -> tuple[np.ndarray, np.ndarray]:
    """``(S, T)`` relative residuals ``y / mu - 1`` at observed, baseline-ready cells (NaN elsewhere)
    and their weights, the inverse sampling variance of ``y / mu`` (0 elsewhere).

    Given a mean-one multiplier ``M`` of the rate, ``E[y / mu - 1 | M] = M - 1`` whatever the count
    size, so covariances of these residuals estimate those of ``M`` without the attenuation a log of
    a small count has (``log((y + 0.5) / (mu + 0.5))`` barely moves with ``M`` when ``mu`` is 0.5 a
    week, which made the latent noise of rare restrictive-practice counts look three times smaller
    than it is). The weights only damp the sampling noise of small counts; any weights are unbiased.
    """
    mu = sc.baseline_rate * sc.panel.n
    ok = (sc.panel.status == OBSERVED) & np.isfinite(mu) & (mu > 0) & np.isfinite(sc.panel.y)
    safe_mu = np.where(ok, mu, 1.0)
    e = np.where(ok, sc.panel.y / safe_mu - 1.0, np.nan)
    # inverse sampling variance of y / mu: NB 1 / mu + alpha, quasi-Poisson phi / mu, beta-binomial
    # (1 - p)(1 + (n - 1) rho) / (n p)
    disp = np.nan_to_num(sc.dispersion, nan=0.0)
    fam = sc.family[:, None]
    n = np.nan_to_num(sc.panel.n, nan=1.0)
    p = np.clip(np.nan_to_num(sc.baseline_rate, nan=0.5), 1e-9, 1 - 1e-9)
    var = np.where(
        fam == "measure",
        np.maximum(disp, 1.0) / safe_mu,
        np.where(
            fam == "proportion", (1 - p) * (1 + np.maximum(n - 1, 0) * disp) / safe_mu, 1 / safe_mu + disp
        ),
    )
    w = np.where(ok, 1.0 / np.maximum(var, 1e-9), 0.0)
    return e, w


#: Share of wards dropped at each end before pooling a moment (a trimmed mean over wards): the
#: trust's history holds real changes (closed cultures, steps, migrations) on a minority of wards,
#: and their sustained shifts would otherwise be counted as in-control noise.
WARD_TRIM = 0.15


def _trimmed(num: np.ndarray, den: np.ndarray, trim: float = WARD_TRIM) -> float:
    """``sum(num) / sum(den)`` over the wards whose own ratio lies between the ``trim`` and
    ``1 - trim`` quantiles (wards with no weight left out)."""
    has = den > 0
    if not has.any():
        return 0.0
    num, den = num[has], den[has]
    ratio = num / den
    lo, hi = np.quantile(ratio, [trim, 1 - trim]) if ratio.size >= 5 else (-np.inf, np.inf)
    keep = (ratio >= lo) & (ratio <= hi)
    return float(num[keep].sum() / den[keep].sum())


def _by_ward(values: np.ndarray, inverse: np.ndarray, g: int) -> np.ndarray:
    """``(G,)`` sums of the rows' ``values`` (``(S,)`` or ``(S, T)``) per ward."""
    v = values.sum(axis=1) if values.ndim == 2 else values
    return np.bincount(inverse, weights=v, minlength=g)


def _own_lag_cov(e: np.ndarray, w: np.ndarray, lag: int, inverse: np.ndarray, g: int) -> float:
    """Weighted ``Cov(e_t, e_{t-lag})`` of each series with itself (centred residuals, 0 weight where
    missing), a trimmed mean over wards."""
    if e.shape[1] <= lag:
        return 0.0
    ww = w[:, lag:] * w[:, :-lag]
    return _trimmed(_by_ward(ww * e[:, lag:] * e[:, :-lag], inverse, g), _by_ward(ww, inverse, g))


def _own_variogram(e: np.ndarray, w: np.ndarray, lag: int, inverse: np.ndarray, g: int) -> float:
    """Weighted ``E (e_t - e_{t-lag})^2`` of each series with itself, a trimmed mean over wards."""
    if e.shape[1] <= lag:
        return 0.0
    ww = w[:, lag:] * w[:, :-lag]
    return _trimmed(_by_ward(ww * (e[:, lag:] - e[:, :-lag]) ** 2, inverse, g), _by_ward(ww, inverse, g))


def _cross_cov(ee: np.ndarray, w: np.ndarray, inverse: np.ndarray, g: int, lag: int) -> float:
    """Weighted ``Cov(e_i,t, e_j,t-lag)`` over ordered pairs of *different* series ``i != j`` of one
    ward (``inverse``: ward index of each row, ``g`` wards; residuals 0 where weight is 0), a trimmed
    mean over wards."""
    t_count = ee.shape[1]
    if t_count <= lag:
        return 0.0
    we = w * ee
    total, weight = np.zeros((g, t_count)), np.zeros((g, t_count))
    np.add.at(total, inverse, we)
    np.add.at(weight, inverse, w)
    hi = slice(lag, None)
    lo = slice(None, t_count - lag)
    own = _by_ward(we[:, hi] * we[:, lo], inverse, g)
    own_w = _by_ward(w[:, hi] * w[:, lo], inverse, g)
    num = (total[:, hi] * total[:, lo]).sum(axis=1) - own
    pairs = (weight[:, hi] * weight[:, lo]).sum(axis=1) - own_w
    return _trimmed(num, pairs)


def estimate_latent_factors(sc: SeriesScores, max_rho: float = 0.98) -> dict[str, LatentFactor]:
    """Per-domain latent noise of one cadence from covariances of relative residuals (module docstring).

    With multipliers ``exp(b u - b^2 / 2)``, two different indicators ``i != j`` of one ward and
    domain have ``log(1 + Cov(e_i,t, e_j,t-k)) = b^2 rho^k``, pooled over wards and pairs; a series'
    covariance with itself ``k >= 1`` periods apart adds ``own_sd^2 own_rho^k``. ``rho`` comes from
    lags 1 and 2 (same-period covariances also hold sampling noise shared by linked indicators:
    prone restraints are restraints, seclusion hours come from seclusion starts); the same-period
    estimate is the fallback and an upper bound of ``b^2``. Non-positive estimates give zero.
    """
    e, w = _relative_residual(sc)
    weekly = sc.panel.periods.size < 2 or np.diff(sc.panel.periods).min() < np.timedelta64(20, "D")
    drift_lags = (13, 39) if weekly else (3, 9)
    wsum = w.sum(axis=1, keepdims=True)
    mean = np.where(
        wsum > 0, (w * np.nan_to_num(e)).sum(axis=1, keepdims=True) / np.maximum(wsum, 1e-300), 0.0
    )
    e = np.where(w > 0, np.nan_to_num(e) - mean, 0.0)
    domains = sorted(set(sc.domain) & set(CULTURE_DOMAINS))
    ward_b, ward_rho = _ward_factor(e, w, sc.domain, sc.panel.ward_id, domains, max_rho)
    out: dict[str, LatentFactor] = {}
    for domain in domains:
        rows = np.nonzero(sc.domain == domain)[0]
        ee, ww = e[rows], w[rows]
        _, inverse = np.unique(sc.panel.ward_id[rows], return_inverse=True)
        g = int(inverse.max()) + 1
        a2 = ward_b.get(domain, 0.0) ** 2
        c = [np.log1p(max(_cross_cov(ee, ww, inverse, g, k), 0.0)) - a2 * ward_rho**k for k in (0, 1, 2)]
        b2, rho = max(c[0], 0.0), 0.0
        if c[1] > 0 and c[2] > 0:
            rho = float(np.clip(c[2] / c[1], 0.0, max_rho))
            b2 = min(c[1] / rho, b2) if rho > 0 else b2
        elif c[0] > 0 and c[1] > 0:
            rho = float(np.clip(c[1] / c[0], 0.0, max_rho))
        c1 = np.log1p(max(_own_lag_cov(ee, ww, 1, inverse, g), -0.99)) - b2 * rho - a2 * ward_rho
        c4 = np.log1p(max(_own_lag_cov(ee, ww, 4, inverse, g), -0.99)) - b2 * rho**4 - a2 * ward_rho**4
        own_sd = own_rho = 0.0
        if c1 > 0 and c4 > 0:
            own_rho = float(np.clip((c4 / c1) ** (1 / 3), 0.0, max_rho))
            own_sd = float(np.sqrt(c1 / own_rho)) if own_rho > 0 else 0.0
        same_b = float(np.sqrt(max(c[0] - b2, 0.0)))
        # random-walk drift from the variogram between a short and a long lag: sampling noise and
        # the stationary components above cancel out or are subtracted
        k1, k2 = drift_lags
        stationary = [b2 * rho**k + a2 * ward_rho**k + own_sd**2 * own_rho**k for k in (k1, k2)]
        gap = (
            _own_variogram(ee, ww, k2, inverse, g)
            - _own_variogram(ee, ww, k1, inverse, g)
            - 2 * (stationary[0] - stationary[1])
        )
        drift_sd = float(np.sqrt(max(gap, 0.0) / (k2 - k1))) if e.shape[1] > k2 else 0.0
        out[domain] = LatentFactor(
            float(np.sqrt(b2)),
            rho,
            own_sd,
            own_rho,
            ward_b.get(domain, 0.0),
            ward_rho if ward_b else 0.0,
            same_b,
            drift_sd,
        )
    return out


def _ward_factor(
    e: np.ndarray, w: np.ndarray, domain: np.ndarray, ward_id: np.ndarray, domains: list[str], max_rho: float
) -> tuple[dict[str, float], float]:
    """Signed loadings of each domain on one ward-wide AR(1) factor, and its coefficient.

    Indicators of *different* domains share no sampling noise, so the same-period covariance of two
    domains' weighted residual totals is ``log(1 + C_dd') = a_d a_d'``: a rank-one fit over the domain
    pairs gives the loadings ``a_d``; lag-1 covariances give ``rho`` (``a_d a_d' rho``). Fewer than
    two domains, or no positive common part: no ward-wide factor.
    """
    if len(domains) < 2:
        return {}, 0.0
    _, inverse = np.unique(ward_id, return_inverse=True)
    g, t_count = int(inverse.max()) + 1, e.shape[1]
    totals, weights = {}, {}
    for d in domains:
        rows = domain == d
        tot, wt = np.zeros((g, t_count)), np.zeros((g, t_count))
        np.add.at(tot, inverse[rows], (w * e)[rows])
        np.add.at(wt, inverse[rows], w[rows])
        totals[d], weights[d] = tot, wt

    def cov(d: str, d2: str, lag: int) -> float:
        hi, lo = slice(lag, None), slice(None, t_count - lag)
        num = (totals[d][:, hi] * totals[d2][:, lo] + totals[d2][:, hi] * totals[d][:, lo]).sum(axis=1)
        den = (weights[d][:, hi] * weights[d2][:, lo] + weights[d2][:, hi] * weights[d][:, lo]).sum(axis=1)
        return float(np.log1p(max(_trimmed(num, den), -0.99)))

    k = len(domains)
    c0, c1 = np.zeros((k, k)), np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            c0[i, j] = c0[j, i] = cov(domains[i], domains[j], 0)
            c1[i, j] = c1[j, i] = cov(domains[i], domains[j], 1)
    # rank-one fit of the off-diagonal covariances (alternating least squares from the leading
    # eigenvector of the matrix with its diagonal set to the row maxima)
    start = c0 + np.diag(np.abs(c0).max(axis=1))
    vals, vecs = np.linalg.eigh(start)
    a = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))
    off = ~np.eye(k, dtype=bool)
    for _ in range(50):
        for i in range(k):
            others = off[i]
            denom = (a[others] ** 2).sum()
            a[i] = (c0[i, others] * a[others]).sum() / denom if denom > 0 else 0.0
    fitted = np.outer(a, a)[off]
    if (fitted * c0[off]).sum() <= 0:
        return {}, 0.0
    rho = float(np.clip((fitted * c1[off]).sum() / (fitted * fitted).sum(), 0.0, max_rho))
    return {d: float(a[i]) for i, d in enumerate(domains)}, rho


def _ar1(rng: np.random.Generator, rows: int, t_count: int, rho: float) -> np.ndarray:
    """``(rows, T)`` stationary unit-variance AR(1) paths."""
    u = np.empty((rows, t_count))
    u[:, 0] = rng.standard_normal(rows)
    innov = np.sqrt(1 - rho**2)
    for t in range(1, t_count):
        u[:, t] = rho * u[:, t - 1] + innov * rng.standard_normal(rows)
    return u


def series_multiplier(
    sc: SeriesScores, factors: dict[str, LatentFactor], rng: np.random.Generator
) -> np.ndarray:
    """``(S, T)`` mean-one latent multipliers of each series of one cadence.

    ``exp(a x_w,t + b u_w,t + own_sd v_s,t - (a^2 + b^2 + own_sd^2) / 2)``: ``x`` shared by every
    culture domain of a ward (loading ``a = ward_b`` per domain), ``u`` by the series of a ward and
    domain, ``v`` the series' own persistent component, all stationary AR(1).
    """
    m = np.ones(sc.panel.shape)
    t_count = sc.panel.shape[1]
    wards, w_idx = np.unique(sc.panel.ward_id, return_inverse=True)
    ward_rho = max((f.ward_rho for f in factors.values() if f.ward_b != 0), default=None)
    shared = _ar1(rng, len(wards), t_count, ward_rho) if ward_rho is not None else None
    for domain, f in factors.items():
        rows = np.nonzero(sc.domain == domain)[0]
        if rows.size == 0:
            continue
        log_m = np.zeros((rows.size, t_count))
        if shared is not None and f.ward_b != 0:
            log_m += f.ward_b * shared[w_idx[rows]] - 0.5 * f.ward_b**2
        if f.b > 0:
            log_m += f.b * _ar1(rng, len(wards), t_count, f.rho)[w_idx[rows]] - 0.5 * f.b**2
        if f.same_b > 0:
            log_m += f.same_b * rng.standard_normal((len(wards), t_count))[w_idx[rows]] - 0.5 * f.same_b**2
        if f.own_sd > 0:
            log_m += f.own_sd * _ar1(rng, rows.size, t_count, f.own_rho) - 0.5 * f.own_sd**2
        if f.drift_sd > 0:
            steps = f.drift_sd * rng.standard_normal((rows.size, t_count))
            steps[:, 0] = 0.0
            log_m += np.cumsum(steps, axis=1) - 0.5 * f.drift_sd**2 * np.arange(t_count)[None, :]
        m[rows] = np.exp(log_m)
    return m


def draw_in_control(
    sc: SeriesScores, rng: np.random.Generator, multiplier: np.ndarray | None = None
) -> np.ndarray:
    """``(S, T)`` in-control numerators from the series' baselines (NaN where not observed).

    ``multiplier`` (``(S, T)``, mean one) is the latent noise, if any.
    """
    panel = sc.panel
    rate = _fill_back(sc.baseline_rate)
    if multiplier is not None:
        rate = rate * multiplier
        prop = sc.family == "proportion"
        rate[prop] = np.clip(rate[prop], 1e-9, 0.999)
    disp = np.nan_to_num(_fill_back(sc.dispersion), nan=0.0)
    n = np.nan_to_num(panel.n, nan=0.0)
    observed = panel.status == OBSERVED
    y = np.full(panel.shape, np.nan)
    ok = observed & np.isfinite(rate)
    mu = np.where(ok, rate * n, 0.0)
    for fam in ("count", "proportion", "measure"):
        m = ok & (sc.family == fam)[:, None]
        if not m.any():
            continue
        if fam == "count":
            a = disp[m]
            lam = np.where(a > 0, rng.gamma(1.0 / np.maximum(a, 1e-12), np.maximum(a, 1e-12) * mu[m]), mu[m])
            y[m] = rng.poisson(lam)
        elif fam == "measure":
            phi = np.maximum(disp[m], 1e-6)
            y[m] = phi * rng.poisson(mu[m] / phi)
        else:
            p = np.clip(rate[m], 1e-9, 1 - 1e-9)
            rho = np.clip(disp[m], 0.0, 0.99)
            s = np.where(rho > 0, (1 - rho) / np.maximum(rho, 1e-12), np.inf)
            pi = np.where(np.isfinite(s), rng.beta(p * np.minimum(s, 1e12), (1 - p) * np.minimum(s, 1e12)), p)
            nn = n[m]
            whole = np.abs(nn - np.round(nn)) < 1e-9
            y[m] = np.where(whole, rng.binomial(np.round(nn).astype(np.int64), pi), nn * pi)
    return y


def level_uncertainty(fitted: SeriesScores, predictive: SeriesScores, periods: float) -> np.ndarray:
    """``(S,)`` squared CV of each series' estimated level (the posterior uncertainty of its rate).

    Recovered from the same fit with and without the predictive dispersion (which adds ``periods``
    times the estimate's ``cv2``, :func:`engine.baselines.coldstart.predictive_dispersion`): counts
    ``(alpha' - alpha) / (1 + alpha)``, proportions ``(rho' - rho) (1 - p) / p``, measures
    ``(phi' - phi) / mu``; the median over the series' ready periods. 0 where unknown.
    """
    a, b = fitted.dispersion, predictive.dispersion
    p = np.clip(fitted.baseline_rate, 1e-9, 1 - 1e-9)
    mu = fitted.baseline_rate * fitted.panel.n
    fam = fitted.family[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(
            fam == "count",
            (b - a) / (1 + a),
            np.where(fam == "proportion", (b - a) * (1 - p) / p, (b - a) / mu),
        ) / max(periods, 1e-9)
    excess = np.where(np.isfinite(excess) & (excess > 0), excess, np.nan)
    has = np.isfinite(excess).any(axis=1)
    out = np.zeros(excess.shape[0])
    if has.any():
        out[has] = np.nanmedian(excess[has], axis=1)
    return np.clip(out, 0.0, 4.0)


def level_multiplier(cv2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(S,)`` mean-one gamma multipliers of squared CV ``cv2`` (1 where ``cv2`` is 0)."""
    c = np.maximum(cv2, 1e-12)
    draw = rng.gamma(1.0 / c, c)
    return np.where(cv2 > 0, draw, 1.0)


def replicate_frame(
    parts: dict[str, SeriesScores],
    rng: np.random.Generator,
    catalogue: Catalogue,
    factors: dict[str, dict[str, LatentFactor]] | None = None,
    changes: dict[str, np.ndarray] | None = None,
    level_cv2: dict[str, np.ndarray] | None = None,
) -> pl.DataFrame:
    """A canonical observation frame of one replicate (``factors`` per cadence and domain).

    ``changes`` (per cadence, ``(S, T)`` rate multipliers) injects known changes, e.g. the single-domain
    changes of :func:`single_domain_changes`; without it the replicate is in control.
    ``level_cv2`` (per cadence, ``(S,)``): the replicate's true level of each series is its fitted
    level times a mean-one gamma of this squared CV (:func:`level_uncertainty`), so it is drawn from
    what the data say about it rather than taken as known.
    """
    frames = []
    for cadence, sc in parts.items():
        panel = sc.panel
        cadence_factors = (factors or {}).get(cadence, {})
        mult = series_multiplier(sc, cadence_factors, rng) if cadence_factors else None
        if level_cv2 is not None and cadence in level_cv2:
            level = level_multiplier(level_cv2[cadence], rng)[:, None]
            mult = level if mult is None else mult * level
        if changes is not None and cadence in changes:
            mult = changes[cadence] if mult is None else mult * changes[cadence]
        y = draw_in_control(sc, rng, mult)
        s_idx, t_idx = np.nonzero(panel.status != MISSING)
        keys, of_key = distinct_keys(panel.indicator)
        no_exposure = np.array([not catalogue[k].exposure for k in keys], dtype=bool)[of_key]
        den = panel.n[s_idx, t_idx]
        frames.append(
            pl.DataFrame(
                {
                    "ward_id": panel.ward_id[s_idx].astype(str),
                    "period": panel.periods[t_idx],
                    "indicator": panel.indicator[s_idx].astype(str),
                    "numerator": y[s_idx, t_idx],
                    "denominator": np.where(no_exposure[s_idx], np.nan, den),
                    "status": np.array(STATUS_LABELS)[panel.status[s_idx, t_idx]],
                }
            ).with_columns(
                pl.col("period").cast(pl.Date),
                pl.col("numerator").fill_nan(None),
                pl.col("denominator").fill_nan(None),
            )
        )
    return pl.concat(frames).sort("ward_id", "indicator", "period")


@dataclass(frozen=True)
class SingleDomainChanges:
    """Single-domain changes injected into a replicate (decoys for the constellation rule).

    ``ward``: ``(K,)`` ward index (into the sorted ward ids); ``onset``, ``end``: ``(K,)`` first and
    last weekly grid period of the change; ``multiplier``: per cadence ``(S, T)`` rate multipliers.
    """

    ward: np.ndarray
    onset: np.ndarray
    end: np.ndarray
    multiplier: dict[str, np.ndarray]


def single_domain_changes(
    parts: dict[str, SeriesScores],
    ward_ids: np.ndarray,
    grid: np.ndarray,
    first_period: np.ndarray,
    rng: np.random.Generator,
    share: float,
    ratio: float,
    weeks: int,
    warmup: int,
) -> SingleDomainChanges:
    """Draw single-domain changes: a ``share`` of wards each get one culture domain whose indicators
    all move ``ratio``-fold in their closure direction (``1/ratio`` for a fall) for ``weeks`` weeks,
    starting after the ward's warm-up (a staffing crisis, one acutely unwell patient, a reporting
    change). Monthly series take the multiplier in the months whose first day falls in the change.
    """
    domains = ("restrictive_practice", "harm_and_reporting", "voice_and_oversight", "staffing")
    t_count = len(grid)
    lo = first_period + warmup
    eligible = np.flatnonzero(lo + weeks <= t_count - 1)
    pick = eligible[rng.random(eligible.size) < share]
    onset = lo[pick] + (rng.random(pick.size) * (t_count - weeks - lo[pick])).astype(np.int64)
    end = onset + weeks - 1
    dom = rng.integers(0, len(domains), pick.size)
    mult: dict[str, np.ndarray] = {}
    for cadence, sc in parts.items():
        m = np.ones(sc.panel.shape)
        ward = np.searchsorted(ward_ids, sc.panel.ward_id)
        periods = sc.panel.periods
        for k in range(pick.size):
            rows = np.flatnonzero((ward == pick[k]) & (sc.domain == domains[dom[k]]))
            if rows.size == 0:
                continue
            inside = (periods >= grid[onset[k]]) & (periods <= grid[end[k]])
            up = sc.closure[rows] == "up"
            factor = np.where(up, ratio, 1.0 / ratio)
            m[np.ix_(rows, np.flatnonzero(inside))] = factor[:, None]
        mult[cadence] = m
    return SingleDomainChanges(pick, onset, end, mult)


def level_at_least(
    domain_stat: np.ndarray,
    level: int,
    concern: float = np.inf,
    watch: float = np.inf,
    domain: float = np.inf,
    urgent: float = np.inf,
    rule: str = "second",
    parameter: float = 1.0,
    total: np.ndarray | None = None,
) -> np.ndarray:
    """``(W, T)`` True where scoring's level rule (:func:`engine.combine.levels.ward_levels`) puts the
    ward at ``level`` or above with these thresholds (unset ones never fire; indicator alerts do not
    raise watch; ``rule`` and ``parameter`` name the concern rule, as in
    :class:`~engine.combine.levels.LevelThresholds`; ``total``, the ``(W, T)`` culture total, for the
    ``gated_total`` rule). Calibration stays right if the rule changes."""
    no_alarm = np.zeros((domain_stat.shape[0], domain_stat.shape[2]), dtype=bool)
    codes, _ = ward_levels(
        domain_stat, no_alarm, LevelThresholds(domain, concern, urgent, watch, rule, parameter), total=total
    )
    return codes >= level


def _smallest_meeting(grid: np.ndarray, rate: np.ndarray, target: float) -> float:
    """Smallest threshold from which on every larger one meets ``target``.

    Alert openings are not monotone in the threshold (with hysteresis a higher threshold can split
    one long alert into two), so the rule looks at the whole tail, not the first crossing.
    """
    tail_max = np.maximum.accumulate(rate[::-1])[::-1]
    ok = np.nonzero(tail_max <= target)[0]
    return float(grid[ok[0]]) if ok.size else float(grid[-1])


def _episode_peaks(condition: np.ndarray, value: np.ndarray, close_after: int) -> np.ndarray:
    """Per alert episode of ``condition``, the largest ``value`` while the condition held."""
    ep = alert_episodes(condition, close_after)
    w_idx, t_idx = np.nonzero(ep.open & condition)
    key = w_idx * condition.shape[1] + ep.opened[w_idx, t_idx]
    starts = ep.row * condition.shape[1] + ep.start
    order = np.argsort(starts)
    pos = order[np.searchsorted(starts[order], key)]
    peak = np.full(len(starts), -np.inf)
    np.maximum.at(peak, pos, value[w_idx, t_idx])
    return peak


def _monitored_ward_years(ev: WardEvidence, warmup: int) -> float:
    """Ward-years after each ward's warm-up (alerts cannot open earlier)."""
    weeks = _monitored(ev, warmup).sum()
    per_year = 52.1775 if ev.cadence == "weekly" else 12.0
    return float(weeks / per_year)


def _first_periods(parts: dict[str, SeriesScores], ward_ids: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``(W,)`` first weekly grid period with any data of each ward."""
    first = np.full(len(ward_ids), len(grid), dtype=np.int64)
    for sc in parts.values():
        fp = sc.panel.first_period()
        has = fp < len(sc.panel.periods)
        if has.any():
            gi = np.searchsorted(grid, sc.panel.periods[np.minimum(fp, len(sc.panel.periods) - 1)])
            np.minimum.at(first, np.searchsorted(ward_ids, sc.panel.ward_id)[has], gi[has])
    return first


def _monitored(ev: WardEvidence, warmup: int) -> np.ndarray:
    """``(W, T)`` True in the ward-periods after each ward's warm-up."""
    return np.arange(len(ev.periods))[None, :] >= (ev.first_period + warmup)[:, None]


def _smallest_meeting_both(
    grid: np.ndarray, rate: np.ndarray, rate_target: float, share: np.ndarray, share_target: float
) -> float:
    """Smallest threshold from which on every larger one meets both targets (see _smallest_meeting)."""
    ok = (rate <= rate_target) & (share <= share_target)
    tail_ok = np.logical_and.accumulate(ok[::-1])[::-1]
    idx = np.nonzero(tail_ok)[0]
    return float(grid[idx[0]]) if idx.size else float(grid[-1])


def in_control_config(config: Config) -> Config:
    """The configuration whose fitted baselines are the in-control model of the replicates.

    Frozen baselines (one level per segment; the latent noise carries the drift) and no cold start:
    a peer group's rate is not the ward's own, so drawing the warm-up weeks from it would put a
    level shift into every replicate (and inflate the latent noise estimated around it). Each ward's
    in-control level is its own warm-up estimate, drawn back to its first week. Shared by
    ``calibrate-alerts`` and the threshold lab (:mod:`engine.evaluate.tradeoff`).
    """
    return dataclasses.replace(
        config,
        baselines=dataclasses.replace(config.baselines, mode="frozen", cold_start=False, predictive=False),
        baselines_monthly=dataclasses.replace(
            config.baselines_monthly, mode="frozen", cold_start=False, predictive=False
        ),
    )


def _in_control_model(
    observations: pl.DataFrame,
    wards: pl.DataFrame,
    events: pl.DataFrame,
    cadence: dict[str, str],
    cfg: Config,
    dependence: bool,
    levels: bool,
) -> tuple[dict[str, SeriesScores], dict[str, np.ndarray] | None, dict[str, dict[str, LatentFactor]]]:
    """The fitted in-control model of the replicates: per cadence the series scores, the squared CV
    of each series' level estimate (``None`` when ``levels`` is off) and the latent factors (empty
    when ``dependence`` is off).

    Frozen baselines (one level per segment) plus the latent noise estimated around them. With
    updating baselines the fitted rate path already follows drift, and drawing from it as well as
    from the latent persistence would count the drift twice. Peer-based (cold start) rates are not
    the ward's own either: each ward's in-control level is its own warm-up estimate, drawn back to
    its first week. The replicates are then scored exactly as configured (baselines re-estimated,
    cold start included), so the estimation error is in the simulation.
    """
    ic = in_control_config(cfg)
    parts, _, _, _ = evidence_frames(observations, wards, events, cadence, ic)
    level_cv2 = None
    if levels:
        with_pred = dataclasses.replace(
            ic,
            baselines=dataclasses.replace(ic.baselines, predictive=True),
            baselines_monthly=dataclasses.replace(ic.baselines_monthly, predictive=True),
        )
        pred_parts, _, _, _ = evidence_frames(observations, wards, events, cadence, with_pred)
        periods = {
            "weekly": cfg.baselines.uncertainty_periods,
            "monthly": cfg.baselines_monthly.uncertainty_periods,
        }
        level_cv2 = {cad: level_uncertainty(sc, pred_parts[cad], periods[cad]) for cad, sc in parts.items()}
    factors = {cad: estimate_latent_factors(sc) for cad, sc in parts.items()} if dependence else {}
    return parts, level_cv2, factors


@dataclass
class _Tally:
    """Running counts over the replicates, per candidate threshold of ``grid`` (mutable on purpose:
    filled one replicate at a time by :func:`_tally_replicate`)."""

    grid: np.ndarray
    concern_open: np.ndarray = field(init=False)
    indicator_open: np.ndarray = field(init=False)
    watch_open: np.ndarray = field(init=False)
    watch_weeks: np.ndarray = field(init=False)
    decoy_escalated: np.ndarray = field(init=False)
    monitored_weeks: float = 0.0
    silence_open: float = 0.0
    ward_years: float = 0.0
    decoy_count: int = 0
    #: Per replicate, ``(W_clean, T)`` constellation strength and severe-domain statistic (urgent).
    d2_all: list[np.ndarray] = field(default_factory=list)
    severe_all: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.grid)
        self.concern_open = np.zeros(n)
        self.indicator_open = np.zeros(n)
        self.watch_open = np.zeros(n)
        self.watch_weeks = np.zeros(n)
        self.decoy_escalated = np.zeros(n)


def _tally_replicate(
    tally: _Tally,
    sim_parts: dict[str, SeriesScores],
    sim_ev: WardEvidence,
    changes: SingleDomainChanges | None,
    comb: CombinationSettings,
    warmup: int,
) -> None:
    """Add one scored replicate's alert openings at every candidate threshold to ``tally``.

    Wards carrying a simulated single-domain change (``changes``) are left out of the false-alarm
    counts and scored only for escalation during the change's window.
    """
    grid = tally.grid
    domain_watch = np.inf if comb.domain_threshold is None else comb.domain_threshold
    clean = np.ones(len(sim_ev.ward_id), dtype=bool)
    if changes is not None:
        clean[changes.ward] = False
    mon = _monitored(sim_ev, warmup) & clean[:, None]
    per_year = 52.1775 if sim_ev.cadence == "weekly" else 12.0
    tally.ward_years += float(mon.sum()) / per_year
    rule = level_thresholds(comb)
    d2 = constellation_strength(sim_ev.domain_stat, rule.rule, rule.parameter, sim_ev.culture_total)
    severe = sim_ev.domain_stat[:, :2, :].max(axis=1)
    tally.d2_all.append(d2[clean])
    tally.severe_all.append(severe[clean])
    tally.monitored_weeks += float(mon.sum())
    t_idx = np.arange(d2.shape[1])[None, :]
    with_decoys = changes is not None and changes.ward.size > 0
    if with_decoys:
        assert changes is not None
        # escalated: a concern alert opens from onset to 8 weeks after the end (the evaluation's
        # decoy window with its grace)
        window = (t_idx >= changes.onset[:, None]) & (t_idx <= changes.end[:, None] + _DECOY_GRACE)
        tally.decoy_count += changes.ward.size
    for i, h in enumerate(grid):
        # scoring's own level rule (engine.combine.levels.ward_levels) at each candidate threshold
        above = level_at_least(
            sim_ev.domain_stat,
            CONCERN,
            concern=h,
            rule=rule.rule,
            parameter=rule.parameter,
            total=sim_ev.culture_total,
        )
        tally.concern_open[i] += openings(above[clean], comb.close_after).sum()
        # watch: the ward at watch or above when watch_threshold is h (and no concern rule)
        watching = level_at_least(
            sim_ev.domain_stat,
            WATCH,
            watch=h,
            domain=domain_watch,
            rule=rule.rule,
            parameter=rule.parameter,
            total=sim_ev.culture_total,
        )
        tally.watch_open[i] += openings(watching & mon, comb.close_after).sum()
        tally.watch_weeks[i] += float((watching & mon).sum())
        if with_decoys:
            assert changes is not None
            ep = alert_episodes(above[changes.ward], comb.close_after)
            hit = np.zeros(changes.ward.size, dtype=bool)
            hit[ep.row[window[ep.row, ep.start]]] = True
            tally.decoy_escalated[i] += hit.sum()
    for sc in sim_parts.values():
        keep = clean[np.searchsorted(sim_ev.ward_id, sc.panel.ward_id)]
        stat = np.fmax(np.nan_to_num(sc.cusum_up, nan=0.0), np.nan_to_num(sc.cusum_down, nan=0.0))[keep]
        for i, h in enumerate(grid):
            tally.indicator_open[i] += openings(stat > h, comb.close_after).sum()
        # data-silence alarms mark the trust's own gaps, which every replicate keeps: not false
        tally.silence_open += openings(sc.silence_alarm[keep], comb.close_after).sum()


def _choose_thresholds(
    tally: _Tally,
    comb: CombinationSettings,
    replicates: int,
    seed: int,
    factors: dict[str, dict[str, LatentFactor]],
) -> CalibrationReport:
    """Rates per ward-year from the tallied openings, and the smallest thresholds meeting the targets."""
    grid, ward_years = tally.grid, tally.ward_years
    concern_rate = tally.concern_open / ward_years
    concern_se = np.sqrt(tally.concern_open) / ward_years
    decoy_rate = tally.decoy_escalated / tally.decoy_count if tally.decoy_count else np.zeros(len(grid))
    h_concern = _smallest_meeting_both(
        grid, concern_rate, comb.target_false_concern_per_ward_year, decoy_rate, comb.target_decoy_escalation
    )
    # an urgent alert is a concern episode that escalates: count each concern episode at most once
    urgent_rate = np.zeros(len(grid))
    for d2, severe in zip(tally.d2_all, tally.severe_all, strict=True):
        peak = _episode_peaks(d2 >= h_concern, severe, comb.close_after)
        urgent_rate += (peak[None, :] >= grid[:, None]).sum(axis=1)
    urgent_rate /= ward_years
    target_urgent = comb.target_false_concern_per_ward_year / 4
    h_urgent = max(_smallest_meeting(grid, urgent_rate, target_urgent), h_concern)
    indicator_rate = tally.indicator_open / ward_years
    watch_rate = tally.watch_open / ward_years
    watch_share = tally.watch_weeks / max(tally.monitored_weeks, 1.0)
    h_watch = min(
        _smallest_meeting_both(
            grid, watch_rate, comb.target_false_watch_per_ward_year, watch_share, comb.target_watch_share
        ),
        h_concern,
    )
    silence_rate = tally.silence_open / ward_years
    budget = max(comb.target_false_indicator_alerts_per_ward_year - silence_rate, 0.0)
    h_cusum = _smallest_meeting(grid, indicator_rate, budget)
    return CalibrationReport(
        grid=grid,
        concern_rate=concern_rate,
        concern_se=concern_se,
        urgent_rate=urgent_rate,
        indicator_rate=indicator_rate,
        silence_rate=float(silence_rate),
        ward_years=ward_years,
        concern_threshold=h_concern,
        urgent_threshold=h_urgent,
        cusum_threshold=h_cusum,
        watch_threshold=h_watch,
        watch_rate=watch_rate,
        watch_share=watch_share,
        decoy_rate=decoy_rate,
        decoys=tally.decoy_count,
        replicates=replicates,
        seed=seed,
        factors=factors,
    )


def calibrate_alerts(
    observations: pl.DataFrame,
    wards: pl.DataFrame,
    events: pl.DataFrame,
    cadence: dict[str, str],
    config: Config | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    progress=None,
    dependence: bool = True,
    decoys: bool = True,
    levels: bool = True,
) -> CalibrationReport:
    """Simulate in-control replicates of the trust and choose thresholds (see module docstring).

    ``progress(done, total)`` is called after each replicate; ``dependence``, ``decoys`` and
    ``levels`` switch off the latent factors, the simulated single-domain changes and the level
    uncertainty (for ablations).
    """
    cfg = config or Config()
    comb = cfg.combination
    r_count = replicates or comb.calibration_replicates
    seed = comb.calibration_seed if seed is None else seed
    rng = np.random.default_rng(seed)
    catalogue = cfg.build_catalogue()
    parts, level_cv2, factors = _in_control_model(
        observations, wards, events, cadence, cfg, dependence, levels
    )
    tally = _Tally(THRESHOLD_GRID)
    # alerts can open from a ward's first data when the cold start is on, else after its warm-up
    warmup = 0 if cfg.baselines.cold_start else cfg.baselines.warmup_periods
    ward_ids = np.unique(np.concatenate([sc.panel.ward_id for sc in parts.values()]))
    for r in range(r_count):
        changes = None
        if decoys and "weekly" in parts:
            grid_periods = parts["weekly"].panel.periods
            first = _first_periods(parts, ward_ids, grid_periods)
            changes = single_domain_changes(
                parts, ward_ids, grid_periods, first, rng, comb.calibration_decoy_share,
                comb.calibration_decoy_ratio, comb.calibration_decoy_weeks, warmup,
            )  # fmt: skip
        sim = replicate_frame(
            parts, rng, catalogue, factors, None if changes is None else changes.multiplier, level_cv2
        )
        sim_parts, sim_ev, _, _ = evidence_frames(sim, wards, events, cadence, cfg)
        _tally_replicate(tally, sim_parts, sim_ev, changes, comb, warmup)
        if progress is not None:
            progress(r + 1, r_count)
    return _choose_thresholds(tally, comb, r_count, seed, factors)
