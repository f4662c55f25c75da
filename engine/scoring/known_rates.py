"""In-control rates known from outside the data, for evaluation only (issue 26).

A synthetic trust's generator knows every ward's true in-control rate at every period (its
``latent.parquet``: expected numerator per unit of denominator without any injected change, and the
true NB ``1 / size``, beta-binomial ``rho`` or quasi-Poisson ``phi``). Scoring with those rates in
place of the estimated baselines answers a research question no real trust can: how much of the gap
to the oracle is baseline estimation, and how much is the evidence and its combination
(``wardwatch equal-fa --true-baselines``). Real scoring never uses this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from engine.panel import Panel

#: Columns of a known-rates file (the generator's ``latent.parquet``).
KNOWN_RATE_COLUMNS: tuple[str, ...] = (
    "ward_id",
    "indicator",
    "period",
    "cadence",
    "expected_rate",
    "dispersion",
)


@dataclass(frozen=True)
class KnownRates:
    """True in-control rate and dispersion per ward, indicator, cadence and period."""

    frame: pl.DataFrame

    @classmethod
    def read(cls, path: str | Path) -> KnownRates:
        frame = pl.read_parquet(path)
        missing = [c for c in KNOWN_RATE_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: known rates need the columns {', '.join(missing)}")
        return cls(frame.select(KNOWN_RATE_COLUMNS))

    def dense(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        """``(S, T)`` rate and dispersion on ``panel``'s rows and periods (NaN where not known)."""
        s_count, t_count = panel.shape
        rate = np.full((s_count, t_count), np.nan)
        disp = np.full((s_count, t_count), np.nan)
        rows = pl.DataFrame(
            {
                "ward_id": panel.ward_id.astype(str),
                "indicator": panel.indicator.astype(str),
                "row": np.arange(s_count),
            }
        )
        cols = pl.DataFrame({"period": panel.periods.astype("datetime64[D]"), "col": np.arange(t_count)})
        hit = (
            self.frame.filter(pl.col("cadence") == panel.cadence)
            .with_columns(
                pl.col("ward_id").cast(pl.String),
                pl.col("indicator").cast(pl.String),
                pl.col("period").cast(pl.Date),
            )
            .join(rows, on=["ward_id", "indicator"], how="inner")
            .join(cols.with_columns(pl.col("period").cast(pl.Date)), on="period", how="inner")
        )
        r, c = hit["row"].to_numpy(), hit["col"].to_numpy()
        rate[r, c] = hit["expected_rate"].fill_null(np.nan).to_numpy()
        disp[r, c] = hit["dispersion"].fill_null(np.nan).to_numpy()
        return rate, disp
