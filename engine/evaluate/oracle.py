"""The oracle: a joint log-likelihood-ratio CUSUM that knows each episode's true effect sizes.

For a closed-culture episode with truth effects ``{indicator: multiplier}`` the oracle's per-week
evidence on a ward is the sum over the affected indicators of the LLR of the observation under the
true full-effect multiplier against the scoring baseline (same ``expected_rate`` and
``dispersion`` as scoring, from ``series.parquet``):

* counts: negative binomial (Poisson when no overdispersion) with mean ``m * mu``;
* measures: quasi-Poisson with the scoring ``phi``;
* proportions: beta-binomial (binomial) with probability ``min(m * p, 1 - eps)``, i.e. the odds
  ratio implied by the multiplied probability.

Monthly indicators spread their LLR over the weeks of the month, as scoring does. The statistic is
Page's CUSUM ``S_t = max(0, S_{t-1} + z_t)`` with no restart. By Moustakides' theorem this is the
fastest detector of that shift for its false-alarm rate; it ignores the ramp (it tests for the full
effect from the first week), which makes it slightly conservative during ramps.

The oracle is run on **every** ward (it is a detector, so it raises false alarms too) and its
threshold is calibrated, per episode, to the smallest value whose false alerts (counted exactly as
for the other methods: openings with ``close_after`` hysteresis in out-of-window ward-time) do not
exceed a target count, e.g. wardwatch's own false alerts. Its delay on the episode is then the
first alert opening (``S_t`` at or above that threshold) at or after onset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.combine.cadence import spread_monthly_to_weeks
from engine.detectors.scores import binomial_llr, poisson_llr
from engine.evaluate._kernels import openings_by_threshold
from engine.evaluate.grid import WardGrid
from engine.evaluate.metrics import first_flag_delay, openings
from signals import Catalogue

_EPS = 1e-9


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
    series: pl.DataFrame, grid: WardGrid, catalogue: Catalogue, keys: Sequence[str]
) -> dict[str, SeriesArrays]:
    """Dense per-indicator arrays of ``numerator``, ``denominator``, ``expected_rate``, ``dispersion``."""
    out: dict[str, SeriesArrays] = {}
    sub = series.filter(pl.col("indicator").is_in(list(keys))).select(
        "ward_id", "indicator", "period", "cadence", "numerator", "denominator", "expected_rate", "dispersion"
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
        z = binomial_llr(a.y, a.n, p0, odds, np.nan_to_num(a.dispersion))  # type: ignore[arg-type]
    else:
        z = poisson_llr(a.y, a.rate * a.n, multiplier, a.family, a.dispersion)
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


def episode_llr(
    arrays: Mapping[str, SeriesArrays], effects: Mapping[str, float], grid: WardGrid
) -> tuple[np.ndarray, list[str]]:
    """``(W, T)`` summed weekly LLR of one episode's alternative on every ward, and indicators used."""
    z = np.zeros(grid.shape)
    used = []
    for key, m in sorted(effects.items()):
        a = arrays.get(key)
        if a is None:
            continue
        used.append(key)
        inc = true_llr(a, m)
        z += inc if a.cadence == "weekly" else spread_monthly_to_weeks(inc, a.periods, grid.periods)
    return z, used


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
    """
    scored = [k for k in catalogue if catalogue[k].domain != "context"]
    keys = sorted({k for eff in effects for k in eff if k in scored})
    arrays = series_arrays(series, grid, catalogue, keys)
    tg = np.asarray(targets, dtype=np.int64)
    e_count = len(ward)
    threshold = np.full((e_count, len(tg)), np.nan)
    delay = np.full((e_count, len(tg)), np.inf)
    fa = np.zeros((e_count, len(tg)), dtype=np.int64)
    used_all: list[list[str]] = []
    for e in range(e_count):
        z, used = episode_llr(arrays, effects[e], grid)
        used_all.append(used)
        if not used or ward[e] < 0:
            continue
        stat = cusum(z)
        h, c = calibrate_threshold(stat, outside, tg, close_after)
        threshold[e], fa[e] = h, c
        row = stat[ward[e] : ward[e] + 1]
        for k in range(len(tg)):
            opened = openings(row >= h[k], close_after)
            delay[e, k] = first_flag_delay(opened, np.zeros(1, np.int64), onset_t[e : e + 1])[0]
    return OracleResult(tg, threshold, delay, fa, used_all)
