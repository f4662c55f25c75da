"""Hand-built truth/results pairs for evaluation tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

START = dt.date(2023, 1, 2)  # a Monday


def week(t: int) -> dt.date:
    return START + dt.timedelta(weeks=t)


def write_status(
    folder: Path, wards: dict[str, dict[int, str]], weeks: int, gaps: dict[str, range] | None = None
) -> None:
    """ward_status.csv with the given levels ({week: level}, 'none' elsewhere); ``gaps`` = no rows."""
    rows = []
    gaps = gaps or {}
    for ward, levels in wards.items():
        for t in range(weeks):
            if t in gaps.get(ward, range(0)):
                continue
            rows.append({"ward_id": ward, "period": week(t).isoformat(), "level": levels.get(t, "none")})
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_csv(folder / "ward_status.csv")


def levels(spans: list[tuple[int, int, str]]) -> dict[int, str]:
    """``{week: level}`` from ``(first, last, level)`` spans (inclusive)."""
    out: dict[int, str] = {}
    for a, b, lvl in spans:
        for t in range(a, b + 1):
            out[t] = lvl
    return out


def write_truth(path: Path, rows: list[dict]) -> Path:
    """truth.csv from dicts with ward_id, kind, onset (week index or date), optional end/effects."""
    out = []
    for i, r in enumerate(rows):
        onset = week(r["onset"]) if isinstance(r["onset"], int) else r["onset"]
        end = r.get("end")
        end_s = "" if end is None else (week(end) if isinstance(end, int) else end).isoformat()
        out.append(
            {
                "episode_id": f"E{i + 1:04d}",
                "group_id": r.get("group_id", f"G{i + 1:02d}"),
                "ward_id": r["ward_id"],
                "kind": r["kind"],
                "onset": onset.isoformat(),
                "full_effect": onset.isoformat(),
                "end": end_s,
                "indicators": ";".join(r.get("effects", {})),
                "effects": json.dumps(r.get("effects", {})),
            }
        )
    pl.DataFrame(out).write_csv(path)
    return path
