"""The observation contract: the canonical observation frame and observation status codes.

The canonical frame is what the loader accepts (``engine.io``), what the synthetic generator
produces and what the engine scores: one row per ward, period and indicator. Missing is not zero:
a period with no row (``missing``), a published ``*`` (``suppressed``) and an empty numerator
(``unknown``) are told apart by ``status``.
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: Columns of the contract's observation file (long format), in order (docs/data-contract.md).
OBSERVATION_FILE_COLUMNS: Final[tuple[str, ...]] = (
    "ward_id",
    "period",
    "indicator",
    "numerator",
    "denominator",
)

#: Columns of the canonical observation frame (the loader's output, the synthetic generator's
#: input to ``validate``, the engine's input).
OBSERVATION_SCHEMA: Final[dict[str, pl.DataType]] = {
    "ward_id": pl.String(),
    "period": pl.Date(),
    "indicator": pl.String(),
    "numerator": pl.Float64(),  # null when suppressed or unknown
    "denominator": pl.Float64(),  # null when the indicator has no exposure
    "status": pl.String(),  # one of STATUS_LABELS[0..1,3]
}

# Observation status codes (``Panel.status``, int8). ``MISSING`` = no row at all for that period.
OBSERVED: Final = 0
SUPPRESSED: Final = 1
MISSING: Final = 2
UNKNOWN: Final = 3
#: status code -> label (the ``status`` column of the frame and of ``series.parquet``).
STATUS_LABELS: Final[tuple[str, ...]] = ("observed", "suppressed", "missing", "unknown")
#: statuses a row of an observation file may state (``missing`` is the absence of a row).
ROW_STATUS_LABELS: Final[tuple[str, ...]] = tuple(STATUS_LABELS[c] for c in (OBSERVED, SUPPRESSED, UNKNOWN))
