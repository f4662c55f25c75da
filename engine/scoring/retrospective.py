"""Retrospective mode for short histories (12-24 months): which series changed, and when.

**Looks ahead by design.** Monitoring (``wardwatch score``) answers "what did we know at week t"; this
answers "looking back over the whole record, what happened". It is written to its own folder with
its own files (``changes.csv``, ``reporting.csv``, ``series_retrospective.parquet``,
``retrospective.json`` with ``"mode": "retrospective"``), never into a monitoring results folder.

* **Change points**: exact PELT (:mod:`engine.changepoint`, Poisson/binomial/normal cost by family,
  overdispersion estimated, mBIC penalty) on every series over the whole history; each change is
  reported with the segment rates before and after and their ratio. A 12-month series supports
  segments of ``min_segment_months`` (default 3) months.
* **Leave-out baselines**: each period's expected rate is the series' rate over *all other* periods
  (leave-one-out), so a month is compared with the rest of its own record; the standardised residual
  ``z = (y - mu) / sqrt(mu (1 + alpha mu))`` (``alpha`` from the peers, see below) is kept per period.
* **Reporting**: :class:`~engine.detectors.silence.PeerSilence` with ``whole_history=True``: each
  silent run is judged at the series' whole-record rate shrunk to its peers', and resumptions are
  compared with the earlier level and the peers'.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from engine.changepoint import ChangePointSettings, detect_panel
from engine.contract.dates import MONTH_YEAR_FORMAT, uk_date
from engine.detectors.silence import PeerSilence
from engine.panel import Panel, build_panel
from engine.scoring.reporting import empty_reporting, reporting_table
from signals import Catalogue

#: The label written on every retrospective output.
RETROSPECTIVE_LABEL = (
    "RETROSPECTIVE ANALYSIS: uses the whole history, looking ahead by design; "
    "not monitoring output and not what was known at the time"
)


@dataclass(frozen=True)
class RetrospectiveSettings:
    """Settings of ``wardwatch score --retrospective``."""

    min_segment_weeks: int = field(default=6, metadata={"doc": "shortest segment between changes (weeks)"})
    min_segment_months: int = field(default=3, metadata={"doc": "shortest segment between changes (months)"})
    silence_level: float = field(
        default=0.001, metadata={"doc": "data silence when P(nothing to report over the run) < level"}
    )
    min_change_ratio: float = field(
        default=1.5, metadata={"doc": "a change is listed when its rate ratio is at least this (or 1/this)"}
    )

    def __post_init__(self) -> None:
        if self.min_segment_weeks < 1 or self.min_segment_months < 1:
            raise ValueError("minimum segment lengths must be at least 1")
        if not 0 < self.silence_level < 1:
            raise ValueError("silence_level must be between 0 and 1")
        if self.min_change_ratio < 1:
            raise ValueError("min_change_ratio must be at least 1")


@dataclass(frozen=True)
class RetrospectiveResult:
    """Tables of a retrospective run (all labelled ``mode = retrospective``)."""

    changes: pl.DataFrame  # one row per change point
    reporting: pl.DataFrame  # data-silence runs and resumptions (engine.scoring.reporting schema)
    series: pl.DataFrame  # ward_id, indicator, cadence, period, numerator, denominator, status, ...
    first: dt.date | None
    last: dt.date | None


def _loo_rate(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """``(S, T)`` leave-one-out rate of each series (its other observed periods) and the observed mask."""
    obs = panel.observed & np.isfinite(panel.y) & np.isfinite(panel.n) & (panel.n > 0)
    y = np.where(obs, panel.y, 0.0)
    n = np.where(obs, panel.n, 0.0)
    ty, tn = y.sum(axis=1, keepdims=True), n.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        loo = np.where(tn - n > 0, (ty - y) / (tn - n), np.nan)
    return loo, obs


def _peer_groups(panel: Panel, ward_type: dict[str, str]) -> np.ndarray:
    wt = np.array([ward_type.get(str(w), "other") for w in panel.ward_id], dtype=str)
    return np.char.add(np.char.add(wt, "|"), panel.indicator.astype(str))


def retrospective(
    observations: pl.DataFrame,
    cadence: dict[str, str],
    wards: pl.DataFrame,
    catalogue: Catalogue,
    changepoint: ChangePointSettings | None = None,
    settings: RetrospectiveSettings | None = None,
    events: pl.DataFrame | None = None,
    peer: PeerSilence | None = None,
) -> RetrospectiveResult:
    """Analyse the whole history of ``observations`` (the loader's frame) retrospectively."""
    st = settings or RetrospectiveSettings()
    cp = changepoint or ChangePointSettings()
    ward_type = dict(zip(wards["ward_id"].to_list(), wards["ward_type"].to_list(), strict=True))
    changes, reporting, series = [], [], []
    first = last = None
    for cad in ("weekly", "monthly"):
        inds = [k for k, c in cadence.items() if c == cad and k in catalogue]
        if not inds:
            continue
        panel = build_panel(observations, cad, indicators=inds)
        if panel.shape[0] == 0:
            continue
        first = panel.periods[0] if first is None else min(first, panel.periods[0])
        last = panel.periods[-1] if last is None else max(last, panel.periods[-1])
        min_size = st.min_segment_months if cad == "monthly" else st.min_segment_weeks
        cps = detect_panel(panel, dataclasses.replace(cp, min_size=min_size), catalogue=catalogue)
        changes.append(_changes(panel, cps, st, catalogue))
        loo, obs = _loo_rate(panel)
        mu = loo * panel.n
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(obs, (panel.y - mu) / np.sqrt(mu), np.nan)
        series.append(
            pl.DataFrame(
                {
                    "ward_id": np.repeat(panel.ward_id.astype(str), panel.shape[1]),
                    "indicator": np.repeat(panel.indicator.astype(str), panel.shape[1]),
                    "cadence": cad,
                    "period": np.tile(np.asarray(panel.periods).astype("datetime64[D]"), panel.shape[0]),
                    "numerator": panel.y.ravel(),
                    "denominator": panel.n.ravel(),
                    "status": panel.status.ravel().astype(np.int64),
                    "loo_rate": loo.ravel(),
                    "loo_z": z.ravel(),
                    "segment": cps.segment_id.ravel().astype(np.int64),
                    "segment_rate": cps.segment_rate.ravel(),
                }
            ).filter(pl.col("status") != 2)
        )
        fam = np.array([catalogue[str(k)].family for k in panel.indicator])
        exp = np.array(
            [catalogue[str(k)].exposure and catalogue[str(k)].domain != "context" for k in panel.indicator]
        )
        rows = np.nonzero((fam == "count") & exp)[0]
        if rows.size:
            ps = dataclasses.replace(peer or PeerSilence(), level=st.silence_level).for_cadence(cad).run(
                panel.y[rows], panel.n[rows], panel.status[rows],
                group=_peer_groups(panel, ward_type)[rows], whole_history=True,
            )  # fmt: skip
            reporting.append(reporting_table(panel, rows, ps, mode="retrospective", catalogue=catalogue))
    all_changes = pl.concat(changes) if changes else _empty_changes()
    return RetrospectiveResult(
        changes=_with_events(all_changes, events),
        reporting=pl.concat(reporting) if reporting else empty_reporting(),
        series=pl.concat(series) if series else pl.DataFrame(),
        first=None if first is None else _date(first),
        last=None if last is None else _date(last),
    )


def _date(day: np.datetime64) -> dt.date:
    return np.datetime64(day, "D").item()  # type: ignore[call-overload]  # stubs: no (datetime64, unit)


CHANGES_SCHEMA = {
    "mode": pl.String,
    "ward_id": pl.String,
    "indicator": pl.String,
    "cadence": pl.String,
    "change_period": pl.Date,
    "rate_before": pl.Float64,
    "rate_after": pl.Float64,
    "ratio": pl.Float64,
    "direction": pl.String,
    "concern": pl.Boolean,
    "explanation": pl.String,
}


def _with_events(changes: pl.DataFrame, events: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``event``: the ward's recorded events within a month before or at the change (a definition
    change or reconfiguration explains a step better than a change in practice)."""
    if events is None or events.height == 0 or changes.height == 0:
        return changes.with_columns(pl.lit(None, dtype=pl.String).alias("event"))
    ev = events.select("ward_id", pl.col("date").cast(pl.Date), "kind", pl.col("note").fill_null(""))
    hits = (
        changes.select("ward_id", "indicator", "change_period")
        .join(ev, on="ward_id", how="inner")
        .filter(
            (pl.col("date") <= pl.col("change_period"))
            & (pl.col("date") > pl.col("change_period").dt.offset_by("-1mo"))
        )
        .group_by("ward_id", "indicator", "change_period")
        .agg(pl.format("{} on {}: {}", "kind", "date", "note").str.join("; ").alias("event"))
    )
    out = changes.join(hits, on=["ward_id", "indicator", "change_period"], how="left")
    return out.with_columns(
        pl.when(pl.col("event").is_not_null())
        .then(pl.format("{} It coincides with a recorded event ({}).", "explanation", "event"))
        .otherwise(pl.col("explanation"))
        .alias("explanation")
    )


def _empty_changes() -> pl.DataFrame:
    return pl.DataFrame(schema=CHANGES_SCHEMA)


def _changes(panel: Panel, cps, st: RetrospectiveSettings, catalogue: Catalogue) -> pl.DataFrame:
    """One row per change point whose ratio is at least ``min_change_ratio`` either way."""
    s_idx, t_idx = np.nonzero(cps.starts)
    keep = t_idx > 0
    s_idx, t_idx = s_idx[keep], t_idx[keep]
    if s_idx.size == 0:
        return _empty_changes()
    seg = cps.segment_id[s_idx, t_idx]
    # rate of the previous segment: the segment rate at the last period before this segment
    before = np.full(s_idx.size, np.nan)
    for i, (s, t, g) in enumerate(zip(s_idx.tolist(), t_idx.tolist(), seg.tolist(), strict=True)):
        prev = np.nonzero(cps.segment_id[s, :t] == g - 1)[0]
        before[i] = cps.segment_rate[s, prev[-1]] if prev.size else np.nan
    after = cps.segment_rate[s_idx, t_idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = after / before
    big = (ratio >= st.min_change_ratio) | (ratio <= 1 / st.min_change_ratio)
    s_idx, t_idx, before, after, ratio = s_idx[big], t_idx[big], before[big], after[big], ratio[big]
    if s_idx.size == 0:
        return _empty_changes()
    keys = panel.indicator[s_idx].astype(str)
    days = np.asarray(panel.periods).astype("datetime64[D]")[t_idx]
    direction = np.where(ratio > 1, "up", "down")
    concern = np.array(
        [catalogue[k].direction in (d, "both") for k, d in zip(keys, direction, strict=True)], dtype=bool
    )
    expl = []
    for k, d, r, b, a in zip(keys, days, ratio, before, after, strict=True):
        ind = catalogue[k]
        when = d.item().strftime(MONTH_YEAR_FORMAT) if panel.cadence == "monthly" else uk_date(d.item())
        move = "rose" if r > 1 else "fell"
        expl.append(
            f"{ind.label} {move} from about {ind.format_rate(b)} to {ind.format_rate(a)} "
            f"({r:.1f} times) from {when} (retrospective: found with the whole record)."
        )
    return pl.DataFrame(
        {
            "mode": "retrospective",
            "ward_id": panel.ward_id[s_idx].astype(str),
            "indicator": keys,
            "cadence": panel.cadence,
            "change_period": days,
            "rate_before": before,
            "rate_after": after,
            "ratio": ratio,
            "direction": direction,
            "concern": concern,
            "explanation": expl,
        },
        schema=CHANGES_SCHEMA,
    ).sort("ward_id", "indicator", "change_period")


def write_retrospective(
    result: RetrospectiveResult, out: str | Path, inputs: dict[str, str | None]
) -> dict[str, Path]:
    """Write the retrospective folder: changes.csv, reporting.csv, series_retrospective.parquet, retrospective.json."""
    d = Path(out)
    if (d / "ward_status.csv").exists() or (d / "alerts.csv").exists():
        raise ValueError(
            f"{d} holds monitoring results: write the retrospective analysis to its own folder "
            "(retrospective and monitoring output are never mixed)"
        )
    d.mkdir(parents=True, exist_ok=True)
    paths = {
        "changes": d / "changes.csv",
        "reporting": d / "reporting.csv",
        "series": d / "series_retrospective.parquet",
        "run": d / "retrospective.json",
    }
    result.changes.write_csv(paths["changes"], float_precision=6)
    result.reporting.write_csv(paths["reporting"], float_precision=6)
    result.series.write_parquet(paths["series"])
    paths["run"].write_text(
        json.dumps(
            {
                "mode": "retrospective",
                "label": RETROSPECTIVE_LABEL,
                "first_period": None if result.first is None else result.first.isoformat(),
                "last_period": None if result.last is None else result.last.isoformat(),
                "inputs": {k: v for k, v in inputs.items() if v is not None},
                "changes": result.changes.height,
                "data_silence_runs": int((result.reporting["kind"] == "data_silence").sum()),
                "discontinuities": int(result.reporting["discontinuity"].fill_null(False).sum()),
                "scored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return paths
