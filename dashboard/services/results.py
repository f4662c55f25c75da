"""The one place the dashboard reads a results folder and the data folder's registers.

Reads the files of ``docs/results-contract.md`` (``ward_status.csv``, ``alerts.csv``,
``series.parquet``, ``run.json``) and the data folder's ``wards.csv`` and ``events.csv``. Everything
else in the dashboard (pages, briefing, ``wardwatch brief``) goes through this module, so swapping
the source of results is a change here only.

Caching: a results folder is identified by the SHA-256 of its files' bytes (:func:`results_key`);
digests are memoised on (path, size, mtime) so unchanged files are hashed once per process. The
Streamlit wrappers (:func:`cached_results`, :func:`cached_ward_series`) key on that digest, never on
frames (Streamlit samples big frames when hashing them). ``series.parquet`` is never loaded whole:
ward and peer queries scan it with predicate push-down.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from dashboard.services.formatting import DOMAIN_LABELS, LEVEL_ORDER
from engine.contract.dates import UK_DATE_FORMAT
from engine.contract.results import (
    ALERT_DATE_COLUMNS,
    ALERT_FLOAT_COLUMNS,
    ALERT_TEXT_COLUMNS,
    DOMAIN_SCORE_PREFIX,
    SERIES_CHART_SCHEMA,
    WARD_STATUS_COLUMNS,
    WARD_STATUS_EVIDENCE_COLUMNS,
    WARD_STATUS_REQUIRED,
    domain_score_column,
)
from engine.scoring.settings import CombinationSettings
from engine.scoring.strength import evidence_strength

logger = logging.getLogger(__name__)

RESULT_FILES: tuple[str, ...] = ("ward_status.csv", "alerts.csv", "series.parquet", "run.json")
DATA_FILES: tuple[str, ...] = ("wards.csv", "events.csv")
DOMAIN_KEYS: tuple[str, ...] = tuple(DOMAIN_LABELS)
#: culture domains whose evidence makes up the ward score (data silence is reported apart).
CULTURE_KEYS: tuple[str, ...] = DOMAIN_KEYS[:4]
#: window (periods) of ``recent_evidence`` when an older results folder lacks the column.
RECENT_PERIODS = 13
#: the engine's default thresholds (nats), used when a results folder's run.json does not say
DEFAULT_URGENT_THRESHOLD = CombinationSettings().urgent_threshold
DEFAULT_CONCERN_THRESHOLD = CombinationSettings().concern_threshold


class ResultsError(RuntimeError):
    """The results folder is missing or does not satisfy the contract (message is user-facing)."""


@dataclass(frozen=True)
class Results:
    """A loaded results folder plus the ward register and events.

    Attributes
    ----------
    key : str
        SHA-256 over the digests of every input file: identifies this content for caching.
    results_dir, data_dir : Path
    ward_status : pl.DataFrame
        ``ward_status.csv`` with ``period`` as ``Date`` and ``score*`` as ``Float64`` (nats).
    alerts : pl.DataFrame
        ``alerts.csv`` with dates parsed; extension columns present (empty when the file lacks them).
    wards : pl.DataFrame
        Ward register: ``ward_id, ward_name, provider, ward_type, beds`` (+ extra columns).
    events : pl.DataFrame
        ``ward_id, date, kind, note`` (empty frame when there is no events file).
    run : dict
        ``run.json`` (empty when absent).
    latest : pl.DataFrame
        One row per ward: its latest ``ward_status`` row joined to the register, plus ``since``
        (first period of the current level's run) and ``rank`` (1 = most worrying), sorted by rank.
    """

    key: str
    results_dir: Path
    data_dir: Path
    ward_status: pl.DataFrame
    alerts: pl.DataFrame
    wards: pl.DataFrame
    events: pl.DataFrame
    run: dict[str, Any] = field(default_factory=dict)
    latest: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def series_path(self) -> Path:
        """``series.parquet`` of this results folder."""
        return self.results_dir / "series.parquet"

    @property
    def as_of(self) -> dt.date | None:
        """Latest scored period (the "as-of" date of the run)."""
        if self.ward_status.is_empty():
            return None
        return self.ward_status["period"].max()  # type: ignore[return-value]

    def ward_name(self, ward_id: str) -> str:
        """Register name of a ward (its id when the register lacks it)."""
        hit = self.wards.filter(pl.col("ward_id") == ward_id)
        if hit.is_empty() or not hit["ward_name"][0]:
            return ward_id
        return str(hit["ward_name"][0])

    def ward_row(self, ward_id: str) -> dict[str, Any]:
        """The ward's row of :attr:`latest` as a dict (empty when the ward is unknown)."""
        hit = self.latest.filter(pl.col("ward_id") == ward_id)
        return hit.row(0, named=True) if hit.height else {}

    def ward_alerts(self, ward_id: str) -> pl.DataFrame:
        """Alerts of one ward, newest first."""
        return self.alerts.filter(pl.col("ward_id") == ward_id).sort("opened", descending=True)

    def ward_alert(self, ward_id: str) -> dict[str, Any]:
        """The ward's current ward-scope alert: its open one, else its latest, else ``{}``."""
        wa = self.ward_alerts(ward_id).filter(pl.col("scope") == "ward")
        if wa.is_empty():
            return {}
        open_ = wa.filter(pl.col("closed").is_null())
        return (open_ if open_.height else wa).row(0, named=True)

    def ward_explanation(self, ward_id: str) -> str:
        """The ward's current explanation: its open ward alert, else its latest ward alert, else ''."""
        return str(self.ward_alert(ward_id).get("explanation") or "")

    @property
    def urgent_threshold(self) -> float:
        """The run's urgent threshold (nats) from ``run.json``'s configuration."""
        return urgent_threshold_of(self.run)

    @property
    def concern_threshold(self) -> float:
        """The run's concern threshold (nats) from ``run.json``'s configuration."""
        return combination_setting(self.run, "concern_threshold", DEFAULT_CONCERN_THRESHOLD)


def combination_setting(run: dict[str, Any], name: str, default: float) -> float:
    """A numeric ``[combination]`` setting of a ``run.json`` (``default`` when absent)."""
    comb = (run.get("config") or {}).get("combination") or {}
    try:
        return float(comb.get(name, default))
    except (TypeError, ValueError):
        return default


def urgent_threshold_of(run: dict[str, Any]) -> float:
    """Urgent threshold (nats) of a ``run.json`` (:data:`DEFAULT_URGENT_THRESHOLD` when absent)."""
    return combination_setting(run, "urgent_threshold", DEFAULT_URGENT_THRESHOLD)


# ----------------------------------------------------------------------------------------- hashing
@functools.lru_cache(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes ('' when absent), memoised on (path, size, mtime)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return ""
    return _digest(str(path.resolve()), st.st_size, st.st_mtime_ns)


def results_key(results_dir: Path, data_dir: Path) -> str:
    """Content key of a results folder together with the data folder's registers."""
    h = hashlib.sha256()
    for name in RESULT_FILES:
        h.update(f"{name}:{file_digest(results_dir / name)};".encode())
    for name in DATA_FILES:
        h.update(f"{name}:{file_digest(data_dir / name)};".encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------- readers
def _to_date(col: str) -> pl.Expr:
    return pl.col(col).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _read_csv_text(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.NoDataError:
        return pl.DataFrame()


def recent_evidence_expr(window: int = RECENT_PERIODS) -> pl.Expr:
    """``recent_evidence`` of the results contract from the ``score_<domain>`` columns (older folders).

    Per culture domain: the statistic now minus its minimum over the last ``window`` periods (zero
    before the ward's first row), summed over domains. Rows must be sorted by ward and period.
    """
    parts = []
    for d in CULTURE_KEYS:
        c = pl.col(domain_score_column(d)).fill_null(0.0)
        low = c.rolling_min(window + 1, min_samples=1).over("ward_id")
        first = pl.int_range(pl.len()).over("ward_id") < window
        parts.append(c - pl.when(first).then(pl.min_horizontal(low, pl.lit(0.0))).otherwise(low))
    return pl.sum_horizontal(parts)


def read_ward_status(path: Path, urgent_threshold: float = DEFAULT_URGENT_THRESHOLD) -> pl.DataFrame:
    """``ward_status.csv`` typed: ``period`` Date, ``score*``, ``recent_evidence`` and
    ``evidence_strength`` Float64. A folder written before those two columns existed gets them
    computed from ``score_<domain>`` (strength: :func:`engine.scoring.strength.evidence_strength`)."""
    if not path.exists():
        raise ResultsError(f"{path} is missing: run `wardwatch score` first")
    raw = _read_csv_text(path)
    missing = set(WARD_STATUS_REQUIRED) - set(raw.columns)
    if missing:
        raise ResultsError(f"{path.name} lacks column(s) {', '.join(sorted(missing))}")
    exprs: list[pl.Expr] = [_to_date("period")]
    exprs += [
        pl.col(c).cast(pl.Float64, strict=False)
        for c in raw.columns
        if c == "score" or c.startswith(DOMAIN_SCORE_PREFIX) or c in WARD_STATUS_EVIDENCE_COLUMNS
    ]
    exprs += [
        pl.lit(None, dtype=pl.String).alias(c)
        for c in WARD_STATUS_COLUMNS
        if c not in WARD_STATUS_REQUIRED and c not in raw.columns
    ]
    out = raw.with_columns(exprs).with_columns(pl.col("level").fill_null("none")).sort("ward_id", "period")
    if "recent_evidence" not in out.columns:
        have = all(domain_score_column(d) in out.columns for d in CULTURE_KEYS)
        out = out.with_columns(
            (recent_evidence_expr() if have else pl.col("score").fill_null(0.0)).alias("recent_evidence")
        )
    if "evidence_strength" not in out.columns:
        recent = pl.col("recent_evidence").fill_null(0.0)
        out = out.with_columns(evidence_strength(recent, urgent_threshold).alias("evidence_strength"))
    return out


def read_alerts(path: Path) -> pl.DataFrame:
    """``alerts.csv`` typed: dates parsed, ``statistic``/``threshold`` Float64; extension columns added."""
    raw = _read_csv_text(path) if path.exists() else pl.DataFrame()
    cols = dict.fromkeys(ALERT_TEXT_COLUMNS + ALERT_DATE_COLUMNS + ALERT_FLOAT_COLUMNS, pl.String)
    raw = (
        raw.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in cols if c not in raw.columns])
        if raw.width
        else pl.DataFrame(schema=cols)
    )
    out = raw.with_columns(
        *[_to_date(c) for c in ALERT_DATE_COLUMNS],
        *[pl.col(c).cast(pl.Float64, strict=False) for c in ALERT_FLOAT_COLUMNS],
        *[pl.col(c).fill_null("") for c in ("explanation", "contributing", "questions", "indicator")],
    )
    return out.sort("opened", "alert_id", descending=[True, False])


def read_wards(path: Path, ward_ids: Sequence[str]) -> pl.DataFrame:
    """Ward register; wards seen in results but absent from the register get their id as name."""
    base = pl.DataFrame({"ward_id": sorted(set(ward_ids))}, schema={"ward_id": pl.String})
    if path.exists():
        reg = _read_csv_text(path)
        for c in ("ward_name", "provider", "ward_type", "beds"):
            if c not in reg.columns:
                reg = reg.with_columns(pl.lit(None, dtype=pl.String).alias(c))
        reg = reg.with_columns(pl.col("beds").cast(pl.Float64, strict=False))
        out = base.join(reg, on="ward_id", how="full", coalesce=True)
    else:
        out = base.with_columns(
            pl.lit(None, dtype=pl.String).alias(c) for c in ("ward_name", "provider", "ward_type")
        ).with_columns(pl.lit(None, dtype=pl.Float64).alias("beds"))
    return out.with_columns(
        pl.col("ward_name").fill_null(pl.col("ward_id")),
        pl.col("provider").fill_null("unknown provider"),
        pl.col("ward_type").fill_null("other"),
    ).sort("ward_id")


def read_events(path: Path) -> pl.DataFrame:
    """Events (``ward_id, date, kind, note``); empty typed frame when there is no file."""
    schema = {"ward_id": pl.String, "date": pl.Date, "kind": pl.String, "note": pl.String}
    if not path.exists():
        return pl.DataFrame(schema=schema)
    raw = _read_csv_text(path)
    if not raw.width:
        return pl.DataFrame(schema=schema)
    for c in ("note", "kind"):
        if c not in raw.columns:
            raw = raw.with_columns(pl.lit("", dtype=pl.String).alias(c))
    uk = pl.col("date").str.to_date(UK_DATE_FORMAT, strict=False)
    return (
        raw.with_columns(pl.coalesce(_to_date("date"), uk).alias("date"), pl.col("note").fill_null(""))
        .select("ward_id", "date", "kind", "note")
        .drop_nulls("date")
        .sort("ward_id", "date")
    )


def latest_by_ward(ward_status: pl.DataFrame, wards: pl.DataFrame) -> pl.DataFrame:
    """One row per ward: latest status, ``since`` (start of the current level's run) and ``rank``.

    Ranking: level (urgent, concern, watch, none), then current evidence (``recent_evidence``,
    descending), then the cumulative score, then ward id: a ward never outranks one at a higher level.
    """
    ws = ward_status.with_columns(
        (pl.col("level") != pl.col("level").shift(1).over("ward_id")).fill_null(True).alias("_chg")
    ).with_columns(pl.col("_chg").cast(pl.Int32).cum_sum().over("ward_id").alias("_run"))
    last_run = ws.group_by("ward_id").agg(pl.col("_run").max())
    since = (
        ws.join(last_run, on=["ward_id", "_run"], how="inner")
        .group_by("ward_id")
        .agg(pl.col("period").min().alias("since"))
    )
    latest = ws.group_by("ward_id").agg(pl.all().sort_by("period").last()).drop("_chg", "_run")
    return (
        latest.join(since, on="ward_id", how="left")
        .join(wards, on="ward_id", how="left")
        .with_columns(
            pl.col("level").replace_strict(LEVEL_ORDER, default=0, return_dtype=pl.Int8).alias("level_rank"),
            pl.col("score").fill_nan(None).fill_null(0.0),
            pl.col("recent_evidence").fill_nan(None).fill_null(0.0),
            pl.col("evidence_strength").fill_nan(None).fill_null(0.0),
        )
        .sort(["level_rank", "recent_evidence", "score", "ward_id"], descending=[True, True, True, False])
        .with_row_index("rank", offset=1)
    )


def load_results(results_dir: Path | str, data_dir: Path | str) -> Results:
    """Read a results folder and the data folder's registers (no caching).

    Raises
    ------
    ResultsError
        When ``ward_status.csv`` is missing or lacks a required column.
    """
    rdir, ddir = Path(results_dir), Path(data_dir)
    if not rdir.is_dir():
        raise ResultsError(f"results folder {rdir} does not exist: run `wardwatch score --out {rdir}`")
    key = results_key(rdir, ddir)
    run_path = rdir / "run.json"
    run = json.loads(run_path.read_text(encoding="utf-8")) if run_path.exists() else {}
    ward_status = read_ward_status(rdir / "ward_status.csv", urgent_threshold_of(run))
    alerts = read_alerts(rdir / "alerts.csv")
    ids = ward_status["ward_id"].unique().to_list() + alerts["ward_id"].drop_nulls().unique().to_list()
    wards = read_wards(ddir / "wards.csv", ids)
    events = read_events(ddir / "events.csv")
    latest = latest_by_ward(ward_status, wards)
    logger.info(
        "results read from %s: %d wards, %d alerts (content key %s)",
        rdir,
        latest.height,
        alerts.height,
        key[:12],
    )
    return Results(key, rdir, ddir, ward_status, alerts, wards, events, run, latest)


# ----------------------------------------------------------------------------------- series queries
def ward_series(results: Results, ward_id: str) -> pl.DataFrame:
    """All rows of ``series.parquet`` for one ward, sorted by indicator and period."""
    if not results.series_path.exists():
        return pl.DataFrame()
    frame = _normalise_series(
        pl.scan_parquet(results.series_path).filter(pl.col("ward_id") == ward_id).collect()
    ).sort("indicator", "period")
    # Results scored with ``--no-charts`` have no chart columns: no limits, every point common cause.
    absent = {c: t for c, t in SERIES_CHART_SCHEMA.items() if c not in frame.columns}
    return frame.with_columns(pl.lit(None, t).alias(c) for c, t in absent.items()) if absent else frame


def peer_totals(results: Results, indicator: str, ward_ids: Sequence[str], periods: int) -> pl.DataFrame:
    """Per ward: numerator and exposure summed over its last ``periods`` observed periods.

    Only ``observed`` rows count (suppressed or unknown values are missing, never zero). Indicators
    without exposure use the number of observed periods as exposure (a rate per period).

    Returns
    -------
    pl.DataFrame
        ``ward_id, numerator, exposure, periods`` for wards with at least one observed period.
    """
    if not results.series_path.exists() or not ward_ids:
        return pl.DataFrame(schema={"ward_id": pl.String, "numerator": pl.Float64, "exposure": pl.Float64})
    frame = _normalise_series(
        pl.scan_parquet(results.series_path)
        .filter((pl.col("indicator") == indicator) & pl.col("ward_id").is_in(list(ward_ids)))
        .select("ward_id", "period", "numerator", "denominator", "status")
        .collect()
    )
    last = frame["period"].max()
    if last is None:
        return pl.DataFrame(schema={"ward_id": pl.String, "numerator": pl.Float64, "exposure": pl.Float64})
    periods_sorted = frame["period"].unique().sort()
    start = periods_sorted[max(0, len(periods_sorted) - periods)]
    obs = frame.filter(
        (pl.col("status") == "observed") & (pl.col("period") >= start) & pl.col("numerator").is_not_null()
    )
    return (
        obs.group_by("ward_id")
        .agg(
            pl.col("numerator").sum(),
            pl.col("denominator").fill_null(1.0).sum().alias("exposure"),
            pl.len().alias("periods"),
        )
        .sort("ward_id")
    )


def _normalise_series(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    if frame.schema.get("period") == pl.String:
        frame = frame.with_columns(_to_date("period"))
    elif frame.schema.get("period") == pl.Datetime:
        frame = frame.with_columns(pl.col("period").dt.date())
    return frame


# --------------------------------------------------------------------------- Streamlit cache layer
def cached_results(results_dir: Path | str, data_dir: Path | str) -> Results:
    """:func:`load_results` through Streamlit's resource cache, keyed on the content hash.

    ``cache_resource`` hands out the same immutable object on every hit (no unpickling copy of
    big frames); polars frames are never modified in place by the dashboard.
    """
    rdir, ddir = Path(results_dir), Path(data_dir)
    if not rdir.is_dir():
        raise ResultsError(f"results folder {rdir} does not exist: run `wardwatch score --out {rdir}`")
    return _cached_load(results_key(rdir, ddir), str(rdir), str(ddir))


def cached_ward_series(results: Results, ward_id: str) -> pl.DataFrame:
    """:func:`ward_series` cached on (content key, ward)."""
    return _cached_ward_series(results.key, ward_id, results)


def cached_peer_totals(
    results: Results, indicator: str, ward_ids: tuple[str, ...], periods: int
) -> pl.DataFrame:
    """:func:`peer_totals` cached on (content key, indicator, peers, periods)."""
    return _cached_peer_totals(results.key, indicator, ward_ids, periods, results)


def _st_cache():
    import streamlit as st

    return st


@functools.cache
def _cached_load_impl():
    st = _st_cache()

    @st.cache_resource(max_entries=2, show_spinner="Reading results…")
    def load(key: str, rdir: str, ddir: str) -> Results:
        return load_results(rdir, ddir)

    return load


def _cached_load(key: str, rdir: str, ddir: str) -> Results:
    return _cached_load_impl()(key, rdir, ddir)


@functools.cache
def _ward_series_impl():
    st = _st_cache()

    @st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
    def load(key: str, ward_id: str, _results: Results) -> pl.DataFrame:
        return ward_series(_results, ward_id)

    return load


def _cached_ward_series(key: str, ward_id: str, results: Results) -> pl.DataFrame:
    return _ward_series_impl()(key, ward_id, results)


@functools.cache
def _peer_impl():
    st = _st_cache()

    @st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
    def load(
        key: str, indicator: str, wards: tuple[str, ...], periods: int, _results: Results
    ) -> pl.DataFrame:
        return peer_totals(_results, indicator, wards, periods)

    return load


def _cached_peer_totals(
    key: str, indicator: str, wards: tuple[str, ...], periods: int, results: Results
) -> pl.DataFrame:
    return _peer_impl()(key, indicator, wards, periods, results)
