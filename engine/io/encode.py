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


@dataclass(frozen=True)
class Encoded:
    """A text column as codes into its sorted distinct normalised values.

    Attributes
    ----------
    codes:
        ``(N,)`` int64: ``values[codes[i]]`` is row ``i``'s normalised text. Because ``values`` is
        sorted, the codes order rows like the text does.
    values:
        Sorted distinct normalised values (``""`` for empty or null).
    unchanged:
        True when normalisation changed no value and there were no nulls (the raw column can then be
        used as the normalised one).
    """

    codes: np.ndarray
    values: list[str]
    unchanged: bool

    def lookup(self, table: np.ndarray) -> np.ndarray:
        """Broadcast a per-value array (``len(values)``) to rows."""
        return table[self.codes]

    def flags(self, predicate_values: set[str] | frozenset[str]) -> np.ndarray:
        """``(N,)`` bool: the row's value is in ``predicate_values``."""
        return self.lookup(np.array([v in predicate_values for v in self.values], dtype=bool))

    def text(self, rows: np.ndarray | None = None) -> pl.Series:
        """The normalised text of all rows (or of the given row indices)."""
        codes = self.codes if rows is None else self.codes[rows]
        return pl.Series(self.values, dtype=pl.String).gather(codes)


def encode(series: pl.Series, *, lower: bool = False) -> Encoded:
    """Encode a column: trim whitespace (and lower-case when asked), nulls as ``""``."""
    s = series if series.dtype == pl.String else series.cast(pl.String)
    has_null = s.null_count() > 0
    s = s.fill_null("") if has_null else s
    raw = s.unique().sort()
    raw_list = raw.to_list()
    norm = [v.strip().lower() if lower else v.strip() for v in raw_list]
    values = sorted(set(norm))
    rank = {v: i for i, v in enumerate(values)}
    code_of_raw = np.array([rank[v] for v in norm], dtype=np.int64)
    raw_codes = s.cast(pl.Enum(raw_list)).to_physical().to_numpy().astype(np.int64, copy=False)
    unchanged = not has_null and norm == raw_list
    return Encoded(codes=code_of_raw[raw_codes], values=values, unchanged=unchanged)
