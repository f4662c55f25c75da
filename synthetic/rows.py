"""The generator's output rows: each indicator's ``(W, T)`` arrays and the long frames built from them.

The canonical frame (:data:`engine.contract.OBSERVATION_SCHEMA`) is built from flat numpy index
arrays and gathered into polars columns (no per-row Python), so a national panel of 10M+ rows takes
seconds. :func:`contract_frame` turns it into the contract's observation file (numerator as text).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.contract.observations import MISSING, OBSERVATION_FILE_COLUMNS, STATUS_LABELS
from signals import CATALOGUE, WARD_INDICATORS
from synthetic.latent import Calendar

#: Columns of the contract's observation file, in order (the observation contract's).
CONTRACT_COLUMNS: tuple[str, ...] = OBSERVATION_FILE_COLUMNS


@dataclass(frozen=True)
class IndicatorArrays:
    """Everything known about one indicator of a synthetic trust, as ``(W, T)`` arrays.

    Attributes
    ----------
    key, cadence:
        Catalogue key and ``weekly`` / ``monthly``.
    y:
        Drawn numerator before missingness and suppression.
    n:
        Denominator (occupied bed days, headcount, shifts, funded WTE, contracted hours, supervisions
        due, staff required or eligible patients); 1.0 where the indicator has no exposure.
    expected:
        Latent expected numerator per unit of ``n`` (``E[y] = expected * n``); for proportions the
        probability. Includes every latent factor and the injected ``multiplier``.
    multiplier:
        Injected multiplier of ``expected`` (episodes and reconfigurations; 1 elsewhere):
        ``expected / multiplier`` is the in-control counterfactual.
    status:
        int8 :mod:`engine.contract.observations` status codes of what was written (``MISSING`` = no row).
    published:
        Numerator as written (``NaN`` when missing, unknown or suppressed; rounded in suppression).
    """

    key: str
    cadence: str
    y: np.ndarray
    n: np.ndarray
    expected: np.ndarray
    multiplier: np.ndarray
    status: np.ndarray
    published: np.ndarray

    @property
    def written(self) -> np.ndarray:
        return self.status != MISSING


def long_frame(arrays: dict[str, IndicatorArrays], cal: Calendar, ward_ids: np.ndarray) -> pl.DataFrame:
    """Canonical observation frame of all written rows, sorted by ward, indicator, period.

    Each indicator's written cells are scattered straight to their final row: the row of cell
    ``(w, t)`` of indicator ``i`` is the number of rows of all (ward, indicator) pairs before
    ``(w, i)`` plus the rank of ``t`` among the ward's written periods of ``i`` (no sort needed).
    """
    keys = list(WARD_INDICATORS)
    counts = np.stack([arrays[k].written.sum(axis=1) for k in keys], axis=1)  # (W, I)
    offsets = (np.cumsum(counts.ravel()) - counts.ravel()).reshape(counts.shape)
    total = int(counts.sum())
    dates = np.concatenate([cal.weeks, cal.months])
    w_out = np.empty(total, np.uint32)
    i_out = np.empty(total, np.uint8)
    p_out = np.empty(total, np.uint32)
    y_out = np.empty(total)
    n_out = np.empty(total)
    s_out = np.empty(total, np.int8)
    for code, key in enumerate(keys):
        a = arrays[key]
        written = a.written
        pos = (offsets[:, code][:, None] + np.cumsum(written, axis=1) - 1)[written]
        wi, ti = np.nonzero(written)
        w_out[pos] = wi
        i_out[pos] = code
        p_out[pos] = ti + (0 if a.cadence == "weekly" else cal.weeks.size)
        y_out[pos] = a.published[written]
        n_out[pos] = a.n[written] if CATALOGUE[key].exposure else np.nan
        s_out[pos] = a.status[written]
    return pl.DataFrame(
        {
            "ward_id": pl.Series(ward_ids.astype(str)).gather(w_out),
            "period": pl.Series(dates).gather(p_out),
            "indicator": pl.Series(keys).gather(i_out),
            "numerator": pl.Series(y_out, nan_to_null=True),
            "denominator": pl.Series(n_out, nan_to_null=True),
            "status": pl.Series(list(STATUS_LABELS)).gather(s_out),
        }
    )


def _number_text(col: str) -> pl.Expr:
    """Shortest text of a number already rounded to at most one decimal ("12", "32.4")."""
    return pl.col(col).cast(pl.String).str.strip_suffix(".0")


def contract_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Contract long format: numerator as text (``*`` when suppressed, empty when unknown)."""
    return frame.select(
        "ward_id",
        "period",
        "indicator",
        pl.when(pl.col("status") == "suppressed")
        .then(pl.lit("*"))
        .otherwise(_number_text("numerator"))
        .alias("numerator"),
        _number_text("denominator").alias("denominator"),
    )
