"""Reporting completeness: every series that reports its exposure but its numerator only in some periods.

One ``incomplete_reporting`` row of ``reporting.csv`` per series (ward x indicator judged by the
peer-silence detector) whose exposure (bed days...) is known in every period from its first to the
last, but whose numerator is published in only some of them (missing, unknown or suppressed in the
others), never-reporters included. It lists incomplete reporting whether or not it raised an alert:
the row says whether the silence was alerted as data silence and, if not, why not (usually: too small
for silence to be informative at its rate), so a small partial reporter is listed without a false
statistical alarm. Columns (:data:`engine.scoring.reporting.REPORTING_SCHEMA`): ``start``/``end``
the first and last period, ``periods`` the periods without a published figure, ``alarm_from`` the
first data-silence alarm (empty when none), ``expected_count`` the events expected over the silent
runs at the series' rate shrunk to its peers', ``probability`` the smallest probability of nothing
to report over a run, ``resumed_count`` the periods with a published figure.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.detectors.silence import PeerSilenceResult
from engine.panel import MISSING, OBSERVED, SUPPRESSED, Panel
from signals import Catalogue

#: ``kind`` of the reporting-completeness rows.
INCOMPLETE_REPORTING = "incomplete_reporting"


def _count(x: float) -> str:
    return f"{x:,.1f}" if x < 10 else f"{x:,.0f}"


def _status(
    alerted: bool, published: int, total: int, suppressed: int, expected: float, prob: float, level: float
) -> str:
    """Why the series is (or is not) alerted, in plain words.

    Silence is informative only when nothing to report would be improbable even at a rate known
    exactly: ``exp(-expected) < level`` (Poisson), i.e. ``expected > -log(level)`` (~7 at 0.001).
    """
    if alerted:
        known = (
            f": ~{_count(expected)} expected over those periods"
            if np.isfinite(expected) and expected > 0
            else ""
        )
        return f"listed as data silence (alert){known}"
    if not np.isfinite(expected) or expected <= 0:
        return "not alerted: its peers were silent too in those periods, so the silence could not be judged"
    if suppressed and published + suppressed == total:
        return (
            f"not alerted: the gaps are suppressed counts (fewer than 5 each), about what its rate "
            f"implies (~{_count(expected)} expected over those periods)"
        )
    if expected <= -np.log(level):
        return (
            f"incomplete reporting, not alerted: too small for silence to be informative "
            f"(~{_count(expected)} expected over those periods at its peers' rate)"
        )
    return (
        f"incomplete reporting, not alerted: ~{_count(expected)} expected over those periods, but with "
        f"rates this different between services its silence was not improbable enough "
        f"(probability {prob:.2g})"
    )


def completeness_table(
    panel: Panel, rows: np.ndarray, result: PeerSilenceResult, mode: str, catalogue: Catalogue
) -> pl.DataFrame:
    """``incomplete_reporting`` rows (module docstring) for the series ``rows`` of ``panel``."""
    rows = np.asarray(rows, dtype=np.int64)
    t_count = panel.shape[1]
    if rows.size == 0 or t_count == 0:
        return pl.DataFrame()
    n = panel.n[rows]
    status = panel.status[rows]
    has_exp = np.isfinite(n) & (n > 0) & (status != MISSING)
    first = np.where(has_exp.any(axis=1), np.argmax(has_exp, axis=1), t_count)
    live = np.arange(t_count)[None, :] >= first[:, None]
    published = has_exp & (status == OBSERVED) & np.isfinite(panel.y[rows])
    n_live = live.sum(axis=1)
    n_pub = published.sum(axis=1)
    listed = (first < t_count) & (has_exp | ~live).all(axis=1) & (n_pub < n_live)
    idx = np.flatnonzero(listed)
    if idx.size == 0:
        return pl.DataFrame()
    run = result.run_length[idx]
    nxt = np.concatenate([run[:, 1:], np.zeros((idx.size, 1), dtype=run.dtype)], axis=1)
    ends = (run > 0) & (nxt == 0)
    ends[:, -1] |= run[:, -1] > 0
    expected = np.where(ends, np.nan_to_num(result.expected_count[idx].astype(float)), 0.0).sum(axis=1)
    has_run = ends.any(axis=1)
    logp = np.where(ends, result.log_probability[idx].astype(float), 0.0).min(axis=1)
    alarm = result.alarm[idx]
    alerted = np.asarray(alarm.any(axis=1), dtype=bool)
    alarm_t = np.where(alerted, np.argmax(alarm, axis=1), 0)
    suppressed = (live[idx] & (status[idx] == SUPPRESSED)).sum(axis=1)
    periods = np.asarray(panel.periods).astype("datetime64[D]")
    keys = panel.indicator[rows[idx]].astype(str)
    unit = "months" if panel.cadence == "monthly" else "weeks"
    expl = []
    for i, key in enumerate(keys):
        ind = catalogue.get(key)
        lab = ind.label if ind else key
        exposure = (ind.denominator if ind else None) or "exposure"
        total, pub, sup = int(n_live[idx[i]]), int(n_pub[idx[i]]), int(suppressed[i])
        gaps = f"{total - pub - sup} without a figure" + (f", {sup} suppressed" if sup else "")
        exp = float(expected[i]) if has_run[i] else float("nan")
        text = _status(bool(alerted[i]), pub, total, sup, exp, float(np.exp(logp[i])), result.level)
        expl.append(
            f"{lab}: a figure published in {pub} of {total} {unit} with {exposure} reported in all ({gaps}); "
            f"{text}."
        )
    return pl.DataFrame(
        {
            "mode": mode,
            "ward_id": panel.ward_id[rows[idx]].astype(str),
            "indicator": keys,
            "cadence": panel.cadence,
            "kind": INCOMPLETE_REPORTING,
            "start": periods[first[idx]],
            "end": np.repeat(periods[-1], idx.size),
            "periods": (n_live[idx] - n_pub[idx]).astype(np.int64),
            "alarm_from": [periods[t].item() if a else None for t, a in zip(alarm_t, alerted, strict=True)],
            "expected_count": np.where(has_run, expected, np.nan),
            "probability": np.where(has_run, np.exp(logp), np.nan),
            "explanation": expl,
        }
    )
