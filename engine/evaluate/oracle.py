"""The oracle: a joint log-likelihood-ratio detector that knows each episode's true baselines,
affected indicators and ramped effect.

For a closed-culture episode with truth effects ``{indicator: multiplier}`` reached over a ramp of
``r`` weeks (``full_effect - onset + 1``; the generator's log-linear ramp ``m ** min(1, (j + 1) / r)``
in week ``j`` after onset) the oracle's evidence on a ward is the sum over the affected indicators
of the LLR of the observation under the ramped multiplier against the **true in-control rate**:

* the true rates and dispersions come from the generator's ``latent.parquet`` next to ``truth.csv``
  (``wardwatch synth --latent``; the benchmark and the grid write it): expected numerator per unit
  of denominator without the injected multipliers, NB ``alpha = 1 / size``, beta-binomial ``rho``;
  without that file (or for an indicator it lacks, e.g. seclusion hours' compound-gamma dispersion)
  the scoring baseline and dispersion of ``series.parquet`` stand in;
* counts: negative binomial (Poisson when no overdispersion) with mean ``m * mu``; measures:
  quasi-Poisson; proportions: beta-binomial (binomial) with probability ``min(m * p, 1 - eps)``.

Monthly indicators spread their LLR over the weeks of the month, as scoring does (a month is scored
at the ramp fraction of the week it is spread to). The onset is unknown to the detector, so the
statistic is the generalised likelihood ratio over the onset with the known ramp shape,

    S_t = max(0, max_{nu <= t} sum_{s = nu}^{t} z_s(m ** min(1, (s - nu + 1) / r))),

computed exactly by a recursion over the ramp ages (O(r) per ward-week; ramp fractions are rounded
to eighths, so at most 8 LLR arrays per indicator). With ``r = 1`` it is Page's CUSUM of the
full-effect LLR, by Moustakides' theorem the fastest detector of that shift for its false-alarm rate.

The oracle is run on **every** ward (it is a detector, so it raises false alarms too) and its
threshold is calibrated, per episode, for its own statistic: the smallest value whose false alerts
(counted exactly as for the other methods: openings with ``close_after`` hysteresis in out-of-window
ward-time) do not exceed a target count, e.g. wardwatch's own false alerts. Its delay on the episode
is then the first alert opening (``S_t`` at or above that threshold) at or after onset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from engine.combine.cadence import spread_monthly_to_weeks
from engine.detectors.scores import binomial_llr, poisson_llr
from engine.evaluate._kernels import openings_by_threshold
from engine.evaluate.grid import WardGrid
from engine.evaluate.metrics import first_flag_delay, openings
from signals import Catalogue

_EPS = 1e-9
#: Ramp fractions are rounded to multiples of 1 / RAMP_STEPS (at most this many LLR arrays per indicator).
RAMP_STEPS: int = 8


@dataclass(frozen=True)
class SeriesArrays:
    """Dense arrays of one indicator on the ward grid's wards: ``(W, T_c)`` at its own cadence."""

    family: str
    cadence: str
    periods: np.ndarray
    y: np.ndarray
    n: np.ndarray
    rate: np.ndarray
    dispersion: np.ndarray


@dataclass(frozen=True)
class OracleResult:
    """Oracle thresholds and delays per episode and calibration target.

    Attributes
    ----------
    targets:
        ``(K,)`` false-alert counts calibrated to.
    threshold:
        ``(E, K)`` threshold (nats) of each episode's oracle; NaN when the episode has no usable
        effect (no numeric multiplier on a scored indicator).
    delay:
        ``(E, K)`` weeks from onset to detection (``inf``: never).
    false_alerts:
        ``(E, K)`` false alerts the calibrated oracle raised (at most the target).
    indicators:
        Per episode, the indicators the oracle used.
    """

    targets: np.ndarray
    threshold: np.ndarray
    delay: np.ndarray
    false_alerts: np.ndarray
    indicators: list[list[str]]


def series_arrays(
    series: pl.DataFrame,
    grid: WardGrid,
    catalogue: Catalogue,
    keys: Sequence[str],
    latent: pl.DataFrame | None = None,
) -> dict[str, SeriesArrays]:
    """Dense per-indicator arrays of ``numerator``, ``denominator``, ``expected_rate``, ``dispersion``.

    With ``latent`` (``latent.parquet``: true ``expected_rate`` and ``dispersion`` per ward, indicator
    and period), the true values replace the scoring ones wherever they are finite.
    """
    out: dict[str, SeriesArrays] = {}
    cols = [
        "ward_id",
        "indicator",
        "period",
        "cadence",
        "numerator",
        "denominator",
        "expected_rate",
        "dispersion",
    ]
    sub = series.filter(pl.col("indicator").is_in(list(keys))).select(cols)
    if latent is not None:
        true = latent.select(
            pl.col("ward_id").cast(pl.String),
            pl.col("indicator").cast(pl.String),
            pl.col("period").cast(pl.Date),
            pl.col("expected_rate").alias("true_rate"),
            pl.col("dispersion").alias("true_dispersion"),
        )
        sub = (
            sub.with_columns(pl.col("period").cast(pl.Date), pl.col("ward_id").cast(pl.String))
            .join(true, on=["ward_id", "indicator", "period"], how="left")
            .with_columns(
                pl.coalesce(pl.col("true_rate").fill_nan(None), pl.col("expected_rate")).alias(
                    "expected_rate"
                ),
                pl.coalesce(pl.col("true_dispersion").fill_nan(None), pl.col("dispersion")).alias(
                    "dispersion"
                ),
            )
            .select(cols)
        )
    w_count = grid.shape[0]
    for (key,), part in sub.partition_by("indicator", as_dict=True).items():
        cadence = str(part["cadence"][0])
        days = part["period"].cast(pl.Date).to_numpy().astype("datetime64[D]")
        if cadence == "weekly":
            periods = grid.periods
            t = grid.week_index(days)
        else:
            periods = np.arange(
                grid.periods[0].astype("datetime64[M]"), grid.periods[-1].astype("datetime64[M]") + 1
            ).astype("datetime64[D]")
            t = np.searchsorted(periods, days)
        w = grid.ward_index(part["ward_id"].to_numpy())
        ok = (w >= 0) & (t >= 0) & (t < len(periods))
        ok[ok] &= periods[t[ok]] == days[ok]
        arrays = {}
        for col in ("numerator", "denominator", "expected_rate", "dispersion"):
            a = np.full((w_count, len(periods)), np.nan)
            a[w[ok], t[ok]] = part[col].cast(pl.Float64).fill_null(np.nan).to_numpy()[ok]
            arrays[col] = a
        out[str(key)] = SeriesArrays(
            catalogue[str(key)].family,
            cadence,
            periods,
            arrays["numerator"],
            arrays["denominator"],
            arrays["expected_rate"],
            arrays["dispersion"],
        )
    return out


def true_llr(a: SeriesArrays, multiplier: float) -> np.ndarray:
    """``(W, T_c)`` LLR (nats) of the true multiplier against the baseline; 0 where no data."""
    if a.family == "proportion":
        p0 = np.clip(a.rate, _EPS, 1 - _EPS)
        p1 = np.clip(multiplier * p0, _EPS, 1 - _EPS)
        odds = p1 * (1 - p0) / (p0 * (1 - p1))
        z = binomial_llr(a.y, a.n, p0, odds, np.nan_to_num(a.dispersion))
    else:
        z = poisson_llr(a.y, a.rate * a.n, multiplier, a.family, a.dispersion)
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


def episode_llr(
    arrays: Mapping[str, SeriesArrays], effects: Mapping[str, float], grid: WardGrid, fraction: float = 1.0
) -> tuple[np.ndarray, list[str]]:
    """``(W, T)`` summed weekly LLR of one episode's alternative (each multiplier raised to
    ``fraction`` of its log-effect) on every ward, and the indicators used."""
    z = np.zeros(grid.shape)
    used = []
    for key, m in sorted(effects.items()):
        a = arrays.get(key)
        if a is None:
            continue
        used.append(key)
        inc = true_llr(a, float(m) ** fraction)
        z += inc if a.cadence == "weekly" else spread_monthly_to_weeks(inc, a.periods, grid.periods)
    return z, used


def ramp_levels(ramp: int, steps: int = RAMP_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ramp fractions and, per ramp age ``j = 0 .. ramp - 1``, the index of its fraction.

    Age ``j`` has fraction ``min(1, (j + 1) / ramp)`` rounded up to a multiple of ``1 / steps`` (never
    above 1; the last age is exactly 1).
    """
    frac = np.minimum(1.0, (np.arange(max(1, ramp)) + 1.0) / max(1, ramp))
    q = np.minimum(1.0, np.ceil(frac * steps - 1e-9) / steps)
    levels, idx = np.unique(q, return_inverse=True)
    return levels, idx.astype(np.int64)


def ramp_glr(z_levels: np.ndarray, age_level: np.ndarray) -> np.ndarray:
    """``(W, T)`` GLR over the onset with a known ramp (module docstring).

    ``z_levels`` is ``(Q, W, T)`` weekly LLR at each ramp fraction; ``age_level`` ``(r,)`` gives the
    fraction index of ramp ages ``0 .. r - 1`` (age ``r - 1`` and later: full effect).
    """
    return _ramp_glr(np.ascontiguousarray(z_levels, dtype=np.float64), np.asarray(age_level, dtype=np.int64))


@njit(cache=True, nogil=True, error_model="numpy")
def _ramp_glr(z, age):
    _, w_count, t_count = z.shape
    r = age.shape[0]
    full = age[r - 1]
    out = np.zeros((w_count, t_count))
    d = np.empty(max(1, r - 1))
    for w in range(w_count):
        c = -np.inf  # best sum over onsets whose ramp is complete
        for j in range(r - 1):
            d[j] = -np.inf  # sum of the onset now at ramp age j
        for t in range(t_count):
            if r == 1:
                c = max(c, 0.0) + z[full, w, t]
                best = c
            else:
                c = max(c, d[r - 2]) + z[full, w, t]
                best = c
                for j in range(r - 2, 0, -1):
                    d[j] = d[j - 1] + z[age[j], w, t]
                    best = max(best, d[j])
                d[0] = z[age[0], w, t]
                best = max(best, d[0])
            out[w, t] = max(0.0, best)
    return out


def cusum(z: np.ndarray) -> np.ndarray:
    """Page's CUSUM ``S_t = max(0, S_{t-1} + z_t)`` along axis 1 (no restart)."""
    out = np.empty_like(z)
    s = np.zeros(z.shape[0])
    for t in range(z.shape[1]):
        s = np.maximum(0.0, s + z[:, t])
        out[:, t] = s
    return out


def false_alerts_by_threshold(
    stat: np.ndarray, outside: np.ndarray, thresholds: np.ndarray, close_after: int
) -> np.ndarray:
    """``(H,)`` false alert openings (in ``outside`` ward-weeks) of ``stat >= h`` for each ``h``."""
    # only wards whose statistic ever reaches the lowest threshold can open an alert
    active = np.nonzero((stat >= thresholds.min()).any(axis=1))[0]
    if active.size == 0:
        return np.zeros(len(thresholds), dtype=np.int64)
    return openings_by_threshold(
        np.ascontiguousarray(stat[active]),
        np.ascontiguousarray(outside[active]),
        np.asarray(thresholds, dtype=float),
        int(close_after),
    )


def calibrate_threshold(
    stat: np.ndarray, outside: np.ndarray, targets: np.ndarray, close_after: int, points: int = 48
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest thresholds whose false alerts are at most each target (two-stage geometric search).

    The count is made monotone (``max`` over all larger thresholds) before searching, so the
    answer meets the target at every larger threshold too. Returns ``(thresholds, counts)``.
    """
    top = float(np.max(np.where(outside, stat, 0.0), initial=0.0)) + 1e-6
    hi = max(top, 0.1)
    grid = np.geomspace(0.05, hi, points)
    counts = false_alerts_by_threshold(stat, outside, grid, close_after)
    env = np.maximum.accumulate(counts[::-1])[::-1]
    out_h = np.empty(len(targets))
    out_c = np.empty(len(targets), dtype=np.int64)
    for k, target in enumerate(targets):
        j = int(np.argmax(env <= target))  # env[-1] == 0 <= target always
        if j == 0:
            out_h[k], out_c[k] = grid[0], env[0]
            continue
        fine = np.geomspace(grid[j - 1], grid[j], points)
        fc = false_alerts_by_threshold(stat, outside, fine, close_after)
        fenv = np.maximum(np.maximum.accumulate(fc[::-1])[::-1], env[j])
        i = int(np.argmax(fenv <= target))
        out_h[k], out_c[k] = fine[i], fenv[i]
    return out_h, out_c


def run_oracle(
    series: pl.DataFrame,
    grid: WardGrid,
    catalogue: Catalogue,
    ward: np.ndarray,
    onset_t: np.ndarray,
    effects: Sequence[Mapping[str, float]],
    outside: np.ndarray,
    targets: Sequence[int],
    close_after: int,
    ramps: Sequence[int] | None = None,
    latent: pl.DataFrame | None = None,
) -> OracleResult:
    """Calibrate and run one oracle CUSUM per episode (see module docstring).

    Parameters
    ----------
    ward, onset_t:
        ``(E,)`` grid ward index (-1 unknown) and onset week of each episode.
    effects:
        Per episode, ``{indicator: true multiplier}``.
    outside:
        ``(W, T)`` monitored out-of-window ward-weeks (where false alerts are counted).
    targets:
        False-alert counts to calibrate to (e.g. each compared method's own count).
    ramps:
        Per episode, weeks from onset to full effect inclusive (1 = a step; default all 1).
    latent:
        The generator's true in-control rates (``latent.parquet``), if known.
    """
    scored = [k for k in catalogue if catalogue[k].domain != "context"]
    keys = sorted({k for eff in effects for k in eff if k in scored})
    arrays = series_arrays(series, grid, catalogue, keys, latent)
    tg = np.asarray(targets, dtype=np.int64)
    e_count = len(ward)
    threshold = np.full((e_count, len(tg)), np.nan)
    delay = np.full((e_count, len(tg)), np.inf)
    fa = np.zeros((e_count, len(tg)), dtype=np.int64)
    used_all: list[list[str]] = []
    for e in range(e_count):
        levels, age = ramp_levels(1 if ramps is None else int(ramps[e]))
        z_levels = []
        for q in levels:
            z, used = episode_llr(arrays, effects[e], grid, float(q))
            z_levels.append(z)
        used_all.append(used)
        if not used or ward[e] < 0:
            continue
        stat = ramp_glr(np.stack(z_levels), age)
        h, c = calibrate_threshold(stat, outside, tg, close_after)
        threshold[e], fa[e] = h, c
        row = stat[ward[e] : ward[e] + 1]
        for k in range(len(tg)):
            opened = openings(row >= h[k], close_after)
            delay[e, k] = first_flag_delay(opened, np.zeros(1, np.int64), onset_t[e : e + 1])[0]
    return OracleResult(tg, threshold, delay, fa, used_all)
