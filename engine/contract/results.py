"""Column contracts of a results folder (docs/results-contract.md): ``alerts.csv``,
``ward_status.csv`` and ``series.parquet``.

The engine writes these columns, the triage store reads the alert columns, the dashboard and the
evaluation read all three: each list is defined here once and imported.
"""

from __future__ import annotations

from typing import Final

import polars as pl

# ------------------------------------------------------------------------------------- alerts.csv
#: Contract columns of ``alerts.csv`` in file order (issue 6, item 5); the triage store's
#: ``upsert_alerts`` needs all of them.
ALERTS_CSV_COLUMNS: Final[tuple[str, ...]] = (
    "alert_id",
    "ward_id",
    "scope",
    "indicator",
    "method",
    "level",
    "direction",
    "opened",
    "onset_estimate",
    "last_seen",
    "closed",
    "statistic",
    "threshold",
    "explanation",
)
#: Extension columns written after the contract columns (a reader must not require them).
ALERT_EXTENSION_COLUMNS: Final[tuple[str, ...]] = ("provider", "contributing", "questions")
#: Every column of ``alerts.csv`` as scoring writes it, in file order.
ALERT_COLUMNS: Final[tuple[str, ...]] = (*ALERTS_CSV_COLUMNS, *ALERT_EXTENSION_COLUMNS)
#: Date columns of ``alerts.csv`` (ISO ``YYYY-MM-DD``; ``closed`` empty while the condition holds).
ALERT_DATE_COLUMNS: Final[tuple[str, ...]] = ("opened", "onset_estimate", "last_seen", "closed")
#: Numeric columns of ``alerts.csv``.
ALERT_FLOAT_COLUMNS: Final[tuple[str, ...]] = ("statistic", "threshold")
#: Text columns of ``alerts.csv`` (every column that is neither a date nor a number), in file order.
ALERT_TEXT_COLUMNS: Final[tuple[str, ...]] = tuple(
    c for c in ALERT_COLUMNS if c not in ALERT_DATE_COLUMNS and c not in ALERT_FLOAT_COLUMNS
)

#: ``alerts.csv`` column types as written (dates as ISO text, empty when absent): scoring's frame.
ALERT_FILE_SCHEMA: Final[dict[str, pl.DataType]] = {
    c: pl.Float64() if c in ALERT_FLOAT_COLUMNS else pl.String() for c in ALERT_COLUMNS
}

# -------------------------------------------------------------------------------- ward_status.csv
#: Contract columns of ``ward_status.csv`` in file order (one row per ward and week).
WARD_STATUS_COLUMNS: Final[tuple[str, ...]] = (
    "ward_id",
    "period",
    "level",
    "score",
    "domains",
    "indicators",
    "alert_id",
)
#: The columns a reader cannot do without.
WARD_STATUS_REQUIRED: Final[tuple[str, ...]] = ("ward_id", "period", "level", "score")
#: Prefix of the per-domain evidence extension columns (``score_<domain>``, nats).
DOMAIN_SCORE_PREFIX: Final = "score_"


def domain_score_column(domain: str) -> str:
    """The ``ward_status.csv`` column of one domain's evidence (``score_<domain>``, nats)."""
    return f"{DOMAIN_SCORE_PREFIX}{domain}"


#: Extension columns after the ``score_<domain>`` ones: current evidence (nats) and its 0-1 scale.
WARD_STATUS_EVIDENCE_COLUMNS: Final[tuple[str, ...]] = ("recent_evidence", "evidence_strength")

# --------------------------------------------------------------------------------- series.parquet
#: Key columns of ``series.parquet`` (one row per ward, indicator and period of its own cadence).
SERIES_KEY_COLUMNS: Final[tuple[str, ...]] = ("ward_id", "indicator", "period", "cadence")
#: Columns written only when charts are computed (absent after ``score --no-charts``), with types.
SERIES_CHART_SCHEMA: Final[dict[str, pl.DataType]] = {
    "chart_mean": pl.Float64(),
    "chart_lpl": pl.Float64(),
    "chart_upl": pl.Float64(),
    "point_type": pl.String(),
    "rule": pl.String(),
}
