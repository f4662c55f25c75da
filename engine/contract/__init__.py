"""The shared vocabulary of wardwatch: every level, status code, column list and date format that
more than one module (or the dashboard) uses is defined here once and imported.

* :mod:`engine.contract.levels`: the alert :class:`Level` (names, ranks, words, colours);
* :mod:`engine.contract.observations`: the canonical observation frame and status codes;
* :mod:`engine.contract.results`: ``alerts.csv``, ``ward_status.csv`` and ``series.parquet`` columns;
* :mod:`engine.contract.truth`: ``truth.csv`` columns and episode kinds;
* :mod:`engine.contract.dates`: the UK date formats people read.

This package imports nothing from the rest of wardwatch (only polars), so any module may import it
without making an import circle.
"""

from engine.contract.dates import (
    INPUT_DATE_FORMATS,
    ISO_DATE_FORMAT,
    MONTH_AXIS_FORMAT,
    MONTH_YEAR_FORMAT,
    UK_DATE_FORMAT,
    long_date,
    parse_input_date,
    uk_date,
)
from engine.contract.levels import (
    LEVEL_COLOURS,
    LEVEL_MEANINGS,
    LEVEL_NAMES,
    LEVEL_ORDER,
    LEVEL_PHRASES,
    LEVEL_RANK,
    LEVEL_TEXT_COLOURS,
    LEVEL_WORDS,
    VISIT_LEVELS,
    Level,
)
from engine.contract.observations import (
    MISSING,
    OBSERVATION_FILE_COLUMNS,
    OBSERVATION_SCHEMA,
    OBSERVED,
    ROW_STATUS_LABELS,
    STATUS_LABELS,
    SUPPRESSED,
    UNKNOWN,
)
from engine.contract.results import (
    ALERT_COLUMNS,
    ALERT_DATE_COLUMNS,
    ALERT_EXTENSION_COLUMNS,
    ALERT_FILE_SCHEMA,
    ALERT_FLOAT_COLUMNS,
    ALERT_TEXT_COLUMNS,
    ALERTS_CSV_COLUMNS,
    DOMAIN_SCORE_PREFIX,
    SERIES_CHART_SCHEMA,
    SERIES_KEY_COLUMNS,
    WARD_STATUS_COLUMNS,
    WARD_STATUS_EVIDENCE_COLUMNS,
    WARD_STATUS_REQUIRED,
    domain_score_column,
)
from engine.contract.truth import (
    CULTURE_KINDS,
    EPISODE_COLUMNS,
    KNOWN_CHANGE_KINDS,
    TRUTH_COLUMNS,
    TRUTH_OPTIONAL,
    TRUTH_SCHEMA,
)

__all__ = [
    "ALERTS_CSV_COLUMNS",
    "ALERT_COLUMNS",
    "ALERT_DATE_COLUMNS",
    "ALERT_EXTENSION_COLUMNS",
    "ALERT_FILE_SCHEMA",
    "ALERT_FLOAT_COLUMNS",
    "ALERT_TEXT_COLUMNS",
    "CULTURE_KINDS",
    "DOMAIN_SCORE_PREFIX",
    "EPISODE_COLUMNS",
    "INPUT_DATE_FORMATS",
    "ISO_DATE_FORMAT",
    "KNOWN_CHANGE_KINDS",
    "LEVEL_COLOURS",
    "LEVEL_MEANINGS",
    "LEVEL_NAMES",
    "LEVEL_ORDER",
    "LEVEL_PHRASES",
    "LEVEL_RANK",
    "LEVEL_TEXT_COLOURS",
    "LEVEL_WORDS",
    "MISSING",
    "MONTH_AXIS_FORMAT",
    "MONTH_YEAR_FORMAT",
    "OBSERVATION_FILE_COLUMNS",
    "OBSERVATION_SCHEMA",
    "OBSERVED",
    "ROW_STATUS_LABELS",
    "SERIES_CHART_SCHEMA",
    "SERIES_KEY_COLUMNS",
    "STATUS_LABELS",
    "SUPPRESSED",
    "TRUTH_COLUMNS",
    "TRUTH_OPTIONAL",
    "TRUTH_SCHEMA",
    "UK_DATE_FORMAT",
    "UNKNOWN",
    "VISIT_LEVELS",
    "WARD_STATUS_COLUMNS",
    "WARD_STATUS_EVIDENCE_COLUMNS",
    "WARD_STATUS_REQUIRED",
    "Level",
    "domain_score_column",
    "long_date",
    "parse_input_date",
    "uk_date",
]
