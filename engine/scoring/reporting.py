"""Reporting table: data-silence episodes and reporting resumptions, one row each (``reporting.csv``).

Built from a :class:`~engine.detectors.silence.PeerSilenceResult` and the panel rows it covers. Each
silent run that alarmed is one ``data_silence`` row; each report after a silent run is one
``resumption`` row, with its ratios to the earlier level and to the peers' and whether it is a
reporting discontinuity; each series with exposure in every period but a published numerator in only
some is one ``incomplete_reporting`` row (:mod:`engine.scoring.completeness`). Monitoring output
(causal) and retrospective output (whole history) use the same columns; the ``mode`` column says which.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from engine.contract.dates import MONTH_YEAR_FORMAT, uk_date
from engine.detectors.silence import PeerSilenceResult
from engine.panel import Panel
from engine.scoring.completeness import completeness_table
from signals import CATALOGUE, Catalogue

#: Columns of ``reporting.csv`` (a contract: extend, never rename).
REPORTING_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "mode": pl.String,
    "ward_id": pl.String,
    "indicator": pl.String,
    "cadence": pl.String,
    "kind": pl.String,
    "start": pl.Date,
    "end": pl.Date,
    "periods": pl.Int64,
    "alarm_from": pl.Date,
    "expected_count": pl.Float64,
    "probability": pl.Float64,
    "resumed_count": pl.Float64,
    "resumed_rate": pl.Float64,
    "ratio_earlier": pl.Float64,
    "ratio_peers": pl.Float64,
    "p_value": pl.Float64,
    "discontinuity": pl.Boolean,
    "explanation": pl.String,
}


def empty_reporting() -> pl.DataFrame:
    """A reporting table with no rows."""
    return pl.DataFrame(schema=REPORTING_SCHEMA)


def _month(day: dt.date, cadence: str) -> str:
    return day.strftime(MONTH_YEAR_FORMAT) if cadence == "monthly" else f"the week of {uk_date(day)}"


def _times(x: float) -> str:
    if x < 0.1:
        return f"{x:.2f}"
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"


def resumption_sentence(
    label: str, day: dt.date, cadence: str, ratio_earlier: float, ratio_peers: float, discontinuity: bool
) -> str:
    """Plain-English sentence for a resumption of reporting (with the recording caveat when far off)."""
    parts = []
    if np.isfinite(ratio_earlier):
        parts.append(f"at {_times(ratio_earlier)} times its earlier level")
    if np.isfinite(ratio_peers):
        parts.append(f"at {_times(ratio_peers)} times its peers'")
    verb = "resumed" if np.isfinite(ratio_earlier) else "began"
    text = f"{label}: reporting {verb} in {_month(day, cadence)}"
    if parts:
        text += " " + " and ".join(parts)
    if discontinuity:
        return text + "; check the recording before reading it as a change in practice."
    return text + ", in line with what was expected."


def reporting_table(
    panel: Panel,
    rows: np.ndarray,
    result: PeerSilenceResult,
    mode: str = "monitoring",
    catalogue: Catalogue | None = None,
) -> pl.DataFrame:
    """Episodes of ``result`` (over panel ``rows``) as a :data:`REPORTING_SCHEMA` frame: one
    ``data_silence`` row per silent run that alarmed, one ``resumption`` row per report after a run,
    one ``incomplete_reporting`` row per partial reporter, alerted or not."""
    cat = catalogue or CATALOGUE
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0 or result.run_length.size == 0:
        return empty_reporting()
    frames = [
        frame
        for frame in (
            silence_episodes(panel, rows, result, mode, cat),
            resumption_episodes(panel, rows, result, mode, cat),
            completeness_table(panel, rows, result, mode, cat),
        )
        if frame is not None and frame.height
    ]
    if not frames:
        return empty_reporting()
    out = pl.concat([_on_schema(f) for f in frames])
    return out.sort("ward_id", "indicator", "end", "kind")


def _on_schema(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every :data:`REPORTING_SCHEMA` column (null where absent), in order and typed."""
    absent = [pl.lit(None, dtype=t).alias(c) for c, t in REPORTING_SCHEMA.items() if c not in frame.columns]
    return frame.with_columns(absent).select(list(REPORTING_SCHEMA)).cast(REPORTING_SCHEMA)  # type: ignore[arg-type]


def _label(catalogue: Catalogue, key: str) -> str:
    return catalogue[key].label if key in catalogue else key


def _alarmed_runs(result: PeerSilenceResult) -> pl.DataFrame:
    """Silent runs that alarmed: ``row, t`` (last period), ``onset``, ``periods``, ``expected_count``,
    ``probability`` (of nothing to report) and ``alarm_t`` (first alarm within the run).

    Only the rows with an alarm somewhere are looked at (a run without one is dropped anyway): at
    national scale a handful of ~30,000 rows, instead of every silent cell of every row.
    """
    t_count = result.run_length.shape[1]
    hit = np.flatnonzero(result.alarm.any(axis=1))
    run, onset, alarm = result.run_length[hit], result.onset[hit], result.alarm[hit]
    # a run ends where the next period's run is 0 (or at the last period)
    nxt = np.concatenate([run[:, 1:], np.zeros((run.shape[0], 1), dtype=run.dtype)], axis=1)
    ends = (run > 0) & ((nxt == 0) | (np.arange(t_count) == t_count - 1)[None, :])
    # first alarm within each run: the onset is the run's key
    alarm_first = np.where(alarm, np.arange(t_count)[None, :], t_count)
    silent_r, silent_t = np.nonzero(run > 0)
    silent = pl.DataFrame(
        {
            "row": hit[silent_r],
            "t": silent_t,
            "onset": onset[run > 0],
            "alarm_t": alarm_first[run > 0],
        }
    )
    if silent.height == 0:
        return silent
    first_alarm = silent.group_by("row", "onset").agg(pl.col("alarm_t").min())
    end_r, end_t = np.nonzero(ends)
    rows = hit[end_r]
    runs = pl.DataFrame(
        {
            "row": rows,
            "t": end_t,
            "onset": onset[end_r, end_t],
            "periods": run[end_r, end_t].astype(np.int64),
            "expected_count": result.expected_count[rows, end_t],
            "probability": np.exp(result.log_probability[rows, end_t]),
        }
    ).join(first_alarm, on=["row", "onset"], how="inner")
    return runs.filter(pl.col("alarm_t") < t_count)


def silence_episodes(
    panel: Panel, rows: np.ndarray, result: PeerSilenceResult, mode: str, catalogue: Catalogue
) -> pl.DataFrame | None:
    """One ``data_silence`` row per silent run that alarmed (None when there is none)."""
    runs = _alarmed_runs(result)
    if runs.height == 0:
        return None
    periods = np.asarray(panel.periods).astype("datetime64[D]")
    r = runs["row"].to_numpy()
    keys = panel.indicator[rows[r]].astype(str)
    labels = np.array([_label(catalogue, k) for k in keys], dtype=object)
    unit = "months" if panel.cadence == "monthly" else "weeks"
    start = periods[runs["onset"].to_numpy()]
    end = periods[runs["t"].to_numpy()]
    expl = [
        f"{lab}: nothing usable reported for {n} {unit} ({_month(s.item(), panel.cadence)} to "
        f"{_month(e.item(), panel.cadence)}) while exposure and the peers' figures were; about "
        f"{ex:,.0f} would be usual (probability of nothing to report {p:.1g}). Data silence: check "
        "the recording and the submission."
        for lab, n, s, e, ex, p in zip(
            labels, runs["periods"], start, end, runs["expected_count"], runs["probability"], strict=True
        )
    ]
    return pl.DataFrame(
        {
            "mode": mode,
            "ward_id": panel.ward_id[rows[r]].astype(str),
            "indicator": keys,
            "cadence": panel.cadence,
            "kind": "data_silence",
            "start": start,
            "end": end,
            "periods": runs["periods"],
            "alarm_from": periods[runs["alarm_t"].to_numpy()],
            "expected_count": runs["expected_count"],
            "probability": runs["probability"],
            "explanation": expl,
        }
    )


def resumption_episodes(
    panel: Panel, rows: np.ndarray, result: PeerSilenceResult, mode: str, catalogue: Catalogue
) -> pl.DataFrame | None:
    """One ``resumption`` row per report after a silent run, with its ratios to the earlier level
    and to the peers' and whether it is a reporting discontinuity (None when there is none)."""
    res_r, res_t = np.nonzero(result.resumed)
    if res_r.size == 0:
        return None
    periods = np.asarray(panel.periods).astype("datetime64[D]")
    keys = panel.indicator[rows[res_r]].astype(str)
    y = panel.y[rows[res_r], res_t]
    n = panel.n[rows[res_r], res_t]
    ratio_earlier = result.ratio_earlier[res_r, res_t]
    ratio_peers = result.ratio_peers[res_r, res_t]
    discontinuity = result.discontinuity[res_r, res_t]
    day = periods[res_t]
    before = np.maximum(res_t - 1, 0)
    expl = [
        resumption_sentence(_label(catalogue, key), d.item(), panel.cadence, a, b, bool(f))
        for key, d, a, b, f in zip(keys, day, ratio_earlier, ratio_peers, discontinuity, strict=True)
    ]
    return pl.DataFrame(
        {
            "mode": mode,
            "ward_id": panel.ward_id[rows[res_r]].astype(str),
            "indicator": keys,
            "cadence": panel.cadence,
            "kind": "resumption",
            "start": periods[np.maximum(result.onset[res_r, before], 0)],
            "end": day,
            "periods": result.run_length[res_r, before].astype(np.int64),
            "resumed_count": y,
            "resumed_rate": y / n,
            "ratio_earlier": ratio_earlier,
            "ratio_peers": ratio_peers,
            "p_value": result.resumption_p[res_r, res_t],
            "discontinuity": discontinuity,
            "explanation": expl,
        }
    )


def scores_reporting(
    parts: dict, mode: str = "monitoring", catalogue: Catalogue | None = None
) -> pl.DataFrame:
    """The reporting table of a scoring run's per-cadence :class:`SeriesScores` (monitoring: causal)."""
    frames = [
        reporting_table(sc.panel, sc.peer_silence_rows, sc.peer_silence, mode, catalogue)
        for sc in parts.values()
        if sc.peer_silence is not None and sc.peer_silence_rows is not None
    ]
    return pl.concat(frames) if frames else empty_reporting()
