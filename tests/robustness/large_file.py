"""Write a large long-layout observations file (and its ward register) for memory measurements.

Not a test and never run by the suite; the file goes where you say (use /tmp, never the repository)::

    python tests/robustness/large_file.py 2230 /tmp/obs2g.csv      # ~2.17 GB, 62 million rows
    /usr/bin/time -v wardwatch validate /tmp/obs2g.csv --wards /tmp/obs2g.csv.wards.csv

Rows are ordered by ward, then week, then indicator (six indicators, 260 weeks from 2021-01-04).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import polars as pl

INDICATORS = ("restraint", "seclusion", "injuries", "complaints", "agency_use", "staff_turnover")
WEEKS = 260
BYTES_PER_ROW = 36


def write(target_mb: float, out: str) -> None:
    """Write about ``target_mb`` megabytes of observations to ``out`` and the register beside it."""
    rng = np.random.default_rng(1)
    n = int(target_mb * 1e6 / BYTES_PER_ROW)
    wards = n // (WEEKS * len(INDICATORS)) + 1
    start = dt.date(2021, 1, 4)
    days = pl.Series([str(start + dt.timedelta(weeks=i)) for i in range(WEEKS)])
    names = pl.Series([f"W{i:05d}" for i in range(wards)])
    block = WEEKS * len(INDICATORS)
    with Path(out).open("wb") as fh:
        fh.write(b"ward_id,period,indicator,numerator,denominator\n")
        for w0 in range(0, wards, 500):
            ws = np.arange(w0, min(w0 + 500, wards))
            m = len(ws) * block
            frame = pl.DataFrame(
                {
                    "ward_id": names.gather(np.repeat(ws, block)),
                    "period": days.gather(np.tile(np.repeat(np.arange(WEEKS), len(INDICATORS)), len(ws))),
                    "indicator": pl.Series(INDICATORS).gather(
                        np.tile(np.arange(len(INDICATORS)), len(ws) * WEEKS)
                    ),
                    "numerator": rng.poisson(2, m),
                    "denominator": rng.integers(100, 200, m),
                }
            )
            frame.write_csv(fh, include_header=False)
    pl.DataFrame({"ward_id": names, "ward_name": "x", "provider": "P", "ward_type": "picu"}).write_csv(
        out + ".wards.csv"
    )


if __name__ == "__main__":
    write(float(sys.argv[1]), sys.argv[2])
