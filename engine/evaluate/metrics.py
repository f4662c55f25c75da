"""Counting rules and summary statistics: detection delays, false alerts, decoy escalations.

Rules (docs/evaluation.md):

* **Alerts.** Alerts are opened and closed from a method's weekly condition exactly as scoring
  opens ward alerts (open when the condition holds and no alert is open; close once it has been
  absent ``close_after`` consecutive weeks). Every rule below counts alert *openings*, so an alert
  that was already open before an episode or decoy began is not credited to it.
* **Detection.** An episode on ward ``w`` with onset in grid week ``t0`` is detected by a method at
  the first alert opening on ``w`` in a week ``t >= t0``; its delay is ``t - t0`` weeks (0 = an
  alert opened in the onset week). It is *detected within the horizon* when
  ``delay < horizon_weeks``. Summary delays (median, quartiles) treat episodes not detected within
  the horizon as ``> horizon`` (infinite), so a median is finite only when more than half the
  episodes were detected in time; quantiles are order statistics (``inverted_cdf``).
* **False alerts.** An alert is false when it opens in a monitored ward-week outside every episode
  and decoy window. Rate = false alerts / ward-years of that outside time. The share of outside
  ward-weeks in which the condition holds (``flagged_share``) is reported too: a method can open
  few alerts by staying on.
* **Decoy escalation.** A decoy row escalated when an alert opened in some week of its window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.evaluate._kernels import opening_matrix
from engine.evaluate.grid import WEEKS_PER_YEAR


@dataclass(frozen=True)
class Outcome:
    """What one method did on one evaluation data set.

    Attributes
    ----------
    delay:
        ``(E,)`` weeks from onset to the first flagged week (``inf``: never flagged).
    false_alerts:
        ``(W,)`` false alert openings per ward.
    ward_years:
        ``(W,)`` out-of-window monitored ward-years per ward.
    decoy_escalated:
        ``(D,)`` whether each decoy row escalated.
    flagged_share:
        Share of out-of-window monitored ward-weeks in which the condition holds.
    """

    delay: np.ndarray
    false_alerts: np.ndarray
    ward_years: np.ndarray
    decoy_escalated: np.ndarray
    flagged_share: float


def first_flag_delay(condition: np.ndarray, ward: np.ndarray, onset_t: np.ndarray) -> np.ndarray:
    """``(E,)`` weeks from ``onset_t`` to the first ``t >= onset_t`` with ``condition[ward, t]``.

    ``onset_t`` may be negative (onset before the grid starts: the search starts at week 0 and the
    delay still counts from the onset). ``inf`` when never flagged or the ward is unknown (-1).
    """
    t_count = condition.shape[1]
    out = np.full(len(ward), np.inf)
    ok = ward >= 0
    if not ok.any() or t_count == 0:
        return out
    rows = condition[ward[ok]] & (np.arange(t_count)[None, :] >= onset_t[ok, None])
    hit = rows.any(axis=1)
    first = rows.argmax(axis=1)
    out[np.nonzero(ok)[0][hit]] = (first - onset_t[ok])[hit]
    return out


def openings(condition: np.ndarray, close_after: int) -> np.ndarray:
    """``(W, T)`` True in the week each alert opens (hysteresis as in scoring's ward alerts)."""
    return opening_matrix(np.ascontiguousarray(condition, dtype=np.bool_), int(close_after))


def false_alerts(opened: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per ward: alert openings in ``outside`` ward-weeks, and the ward-years of ``outside`` time."""
    return (opened & outside).sum(axis=1), outside.sum(axis=1) / WEEKS_PER_YEAR


def outcome(
    condition: np.ndarray, outside: np.ndarray, close_after: int, episodes: tuple, decoys: tuple
) -> Outcome:
    """A method's outcome from its ``(W, T)`` condition.

    ``episodes`` is ``(ward, onset_t)`` and ``decoys`` ``(ward, t0, t1)`` (grid indices).
    """
    opened = openings(condition, close_after)
    fa, years = false_alerts(opened, outside)
    flagged = float((condition & outside).sum() / max(1, outside.sum()))
    return Outcome(first_flag_delay(opened, *episodes), fa, years, window_any(opened, *decoys), flagged)


def window_any(condition: np.ndarray, ward: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """``(D,)`` whether ``condition[ward, t]`` holds for some ``t0 <= t <= t1`` (False for ward -1)."""
    t_count = condition.shape[1]
    out = np.zeros(len(ward), dtype=bool)
    ok = ward >= 0
    if ok.any() and t_count:
        t = np.arange(t_count)[None, :]
        inside = (t >= t0[ok, None]) & (t <= t1[ok, None])
        out[ok] = (condition[ward[ok]] & inside).any(axis=1)
    return out


def quantile(values: np.ndarray, q: float | np.ndarray, axis: int = -1) -> np.ndarray:
    """Order-statistic quantile (``inverted_cdf``), valid with ``inf`` values; NaN when empty."""
    v = np.asarray(values, dtype=float)
    if v.shape[axis] == 0:
        return np.full(np.shape(q), np.nan)
    return np.quantile(v, q, axis=axis, method="inverted_cdf")


def censor(delay: np.ndarray, horizon: int) -> np.ndarray:
    """Delays at or beyond the horizon (and never) as ``inf``."""
    return np.where(delay < horizon, delay, np.inf)


def bootstrap_index(rng: np.random.Generator, n: int, replicates: int) -> np.ndarray:
    """``(B, n)`` resampled indices (empty when ``n == 0``)."""
    if n == 0:
        return np.zeros((replicates, 0), dtype=np.int64)
    return rng.integers(0, n, size=(replicates, n))


def percentile_ci(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of bootstrap ``samples`` (order statistics, so ``inf`` is kept)."""
    s = np.asarray(samples, dtype=float)
    s = s[~np.isnan(s)]
    if s.size == 0:
        return (np.nan, np.nan)
    lo, hi = quantile(s, np.array([(1 - level) / 2, (1 + level) / 2]))
    return float(lo), float(hi)


def rate_per_year(counts: np.ndarray, years: np.ndarray) -> float:
    """Events per ward-year (NaN when there is no ward-time)."""
    total = float(np.sum(years))
    return float(np.sum(counts)) / total if total > 0 else np.nan


def cluster_bootstrap_share(
    flags: np.ndarray, cluster: np.ndarray, rng: np.random.Generator, replicates: int
) -> np.ndarray:
    """Bootstrap replicates of the share of True ``flags``, resampling whole clusters (groups)."""
    labels, inverse = np.unique(cluster, return_inverse=True)
    k = len(labels)
    if k == 0 or replicates == 0:
        return np.zeros(0)
    hits = np.bincount(inverse, weights=flags.astype(float), minlength=k)
    sizes = np.bincount(inverse, minlength=k).astype(float)
    idx = bootstrap_index(rng, k, replicates)
    return hits[idx].sum(axis=1) / sizes[idx].sum(axis=1)
