"""Accepted observations as integer codes and numeric arrays: the loader's output.

The canonical observation frame (:data:`engine.contract.OBSERVATION_SCHEMA`) repeats a few thousand
ward ids, a few dozen indicator keys and three status labels millions of times. The loader already
holds them as codes, and the dense panels need only the codes, so :class:`CodedObservations` keeps
them that way; the polars frame is built from it only when a caller asks for it
(``LoadResult.observations``). Nationally (11.75 M rows) that frame's three text columns are ~0.6 GB
of string views that ``wardwatch score`` never reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.contract.observations import OBSERVATION_SCHEMA


@dataclass(frozen=True, eq=False)
class CodedObservations:
    """Observation rows with their text columns as codes (the loader's: sorted by ward_id, indicator,
    period; :meth:`from_frame` keeps a frame's order).

    Attributes
    ----------
    ward_values, indicator_values, status_values:
        Distinct texts of each column; ``*_codes[i]`` indexes them for row ``i``. Ward and indicator
        values are sorted, so their codes order rows as the texts do; a value no row uses may occur.
    ward_codes, indicator_codes:
        ``(N,)`` unsigned integers.
    status_codes:
        ``(N,)`` int8 into ``status_values`` (labels of ``engine.contract.STATUS_LABELS``).
    days:
        ``(N,)`` int32 period start as days since 1970-01-01.
    numerator, denominator:
        ``(N,)`` float64; NaN where the frame holds null (suppressed or unknown numerator; no exposure).
    """

    ward_values: list[str]
    ward_codes: np.ndarray
    indicator_values: list[str]
    indicator_codes: np.ndarray
    days: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    status_values: tuple[str, ...]
    status_codes: np.ndarray

    @classmethod
    def from_frame(cls, observations: pl.DataFrame) -> CodedObservations:
        """The rows of a canonical observation frame, in the frame's order, as codes."""
        obs = observations.cast(OBSERVATION_SCHEMA)  # type: ignore[arg-type]
        ward_values, ward_codes = _codes(obs["ward_id"])
        indicator_values, indicator_codes = _codes(obs["indicator"])
        status_values, status_codes = _codes(obs["status"])
        return cls(
            ward_values,
            ward_codes,
            indicator_values,
            indicator_codes,
            obs["period"].to_physical().to_numpy(),
            obs["numerator"].fill_null(np.nan).to_numpy(),
            obs["denominator"].fill_null(np.nan).to_numpy(),
            tuple(status_values),
            status_codes.astype(np.int8),
        )

    @property
    def height(self) -> int:
        """Number of rows."""
        return int(self.days.shape[0])

    def take(self, rows: np.ndarray) -> CodedObservations:
        """The rows selected by ``rows`` (boolean mask or indices, in the order given)."""
        return CodedObservations(
            self.ward_values,
            self.ward_codes[rows],
            self.indicator_values,
            self.indicator_codes[rows],
            self.days[rows],
            self.numerator[rows],
            self.denominator[rows],
            self.status_values,
            self.status_codes[rows],
        )

    def clear(self) -> CodedObservations:
        """No rows (the same value lists): lets a caller drop the row arrays it no longer needs."""
        return self.take(np.zeros(0, dtype=np.int64))

    def frame(self) -> pl.DataFrame:
        """The canonical observation frame (:data:`engine.contract.OBSERVATION_SCHEMA`) of these rows."""
        return pl.DataFrame(
            {
                "ward_id": texts(self.ward_values, self.ward_codes),
                "period": pl.Series(self.days, dtype=pl.Int32).cast(pl.Date),
                "indicator": texts(self.indicator_values, self.indicator_codes),
                "numerator": pl.Series(self.numerator, nan_to_null=True),
                "denominator": pl.Series(self.denominator, nan_to_null=True),
                "status": texts(list(self.status_values), self.status_codes),
            }
        ).cast(OBSERVATION_SCHEMA)  # type: ignore[arg-type]


def texts(values: list[str], codes: np.ndarray) -> pl.Series:
    """A ``String`` column: ``values[codes[i]]`` for every row."""
    return pl.Series(values, dtype=pl.String).gather(pl.Series(codes))


def _codes(col: pl.Series) -> tuple[list[str], np.ndarray]:
    """Sorted distinct values of a text column without nulls, and each row's code into them."""
    if col.null_count():
        raise ValueError(f"column {col.name!r} has nulls: not a canonical observation frame")
    values = col.unique().sort().to_list()
    return values, col.cast(pl.Enum(values)).to_physical().to_numpy()
