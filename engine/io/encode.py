"""Integer codes for low-cardinality text columns (ward ids, indicator keys).

National files repeat a few thousand ward ids and a few dozen indicator keys millions of times. Every
per-value operation (trimming, lower-casing, looking up the register or the catalogue) is done once
per distinct value and broadcast back with a numpy gather, so the cost per row is a few integer
operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.io.parse import distinct_codes


@dataclass(frozen=True)
class Encoded:
    """A text column as codes into its sorted distinct normalised values.

    Attributes
    ----------
    codes:
        ``(N,)`` unsigned integers (the narrowest type holding ``len(values)``): ``values[codes[i]]``
        is row ``i``'s normalised text. Because ``values`` is sorted, the codes order rows like the
        text does.
    values:
        Sorted distinct normalised values (``""`` for empty or null).
    """

    codes: np.ndarray
    values: list[str]

    def table(self, predicate_values: set[str] | frozenset[str]) -> np.ndarray:
        """``(len(values),)`` bool: the value is in ``predicate_values`` (index it with ``codes``)."""
        return np.array([v in predicate_values for v in self.values], dtype=bool)

    def text(self, rows: np.ndarray | None = None) -> pl.Series:
        """The normalised text of all rows (or of the given row indices)."""
        codes = self.codes if rows is None else self.codes[rows]
        return pl.Series(self.values, dtype=pl.String).gather(pl.Series(codes))


def encode(series: pl.Series, *, lower: bool = False) -> Encoded:
    """Encode a column: trim whitespace (and lower-case when asked), nulls as ``""``.

    A column that comes in long runs of one value (a national file sorted by ward) is encoded run by
    run: the values of its few runs are encoded and the codes repeated over the run lengths.
    """
    if series.dtype == pl.Categorical:  # once per distinct value, gathered back by code
        values, codes = distinct_codes(series)
        small = _encode_small(values.append(pl.Series([""], dtype=pl.String)), lower)  # last: null
        return Encoded(codes=small.codes[codes], values=small.values)
    s = series if series.dtype == pl.String else series.cast(pl.String)
    if len(s) >= _MIN_RUN_ROWS:
        runs = s.rle()
        if len(runs) * _MIN_RUN_LENGTH <= len(s):
            run = _encode_small(runs.struct.field("value"), lower)
            codes = np.repeat(run.codes, runs.struct.field("len").to_numpy())
            return Encoded(codes=codes, values=run.values)
    return _encode_small(s, lower)


#: Run-length encoding is tried on columns of at least this many rows, and used when the mean run is
#: at least this long.
_MIN_RUN_ROWS, _MIN_RUN_LENGTH = 100_000, 8


def _encode_small(s: pl.Series, lower: bool) -> Encoded:
    """:func:`encode` by hashing every value (any column; used directly on short ones)."""
    has_null = s.null_count() > 0
    s = s.fill_null("") if has_null else s
    raw_list = s.unique().sort().to_list()
    norm = [v.strip().lower() if lower else v.strip() for v in raw_list]
    values = sorted(set(norm))
    raw_codes = s.cast(pl.Enum(raw_list)).to_physical().to_numpy()
    if norm == values:  # normalisation kept every value distinct and in order: codes are final
        return Encoded(codes=raw_codes, values=values)
    rank = {v: i for i, v in enumerate(values)}
    code_of_raw = np.array([rank[v] for v in norm], dtype=raw_codes.dtype)
    return Encoded(codes=code_of_raw[raw_codes], values=values)
