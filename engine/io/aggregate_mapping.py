"""The mapping of ``wardwatch aggregate``: export columns, categories -> indicators, coverage.

See docs/aggregate.md. :func:`load_mapping` reads and checks the TOML (a fatal error names the file
and the key at fault); :func:`period_start` is the contract's period of a date.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from engine.io.errors import FatalInputError
from signals import CATALOGUE, Catalogue

CADENCES = ("weekly", "monthly")
#: Names of ``week_start`` (ISO weekday = index + 1).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Other accepted names of the exposure file's value column (``denominator`` is the contract's).
EXPOSURE_ALIASES = ("bed_days", "occupied_bed_days", "shifts", "value")


@dataclass(frozen=True)
class Coverage:
    """A declared complete span: ``source`` (file name or ``*``), ``ward`` (id or ``*``), dates inclusive."""

    source: str
    ward: str
    complete_from: dt.date
    complete_to: dt.date


@dataclass(frozen=True)
class Mapping:
    """The aggregation mapping (parsed from TOML)."""

    cadence: str
    ward_column: str
    date_column: str
    category_column: str
    categories: dict[str, tuple[str, ...]]
    coverage: tuple[Coverage, ...] = field(default=())
    week_start: int = 1  # ISO weekday weekly periods start on (1 = Monday ... 7 = Sunday)


def _norm(name: str) -> str:
    return "_".join(name.strip().lower().split())


def load_mapping(path: str | Path, catalogue: Catalogue | None = None) -> Mapping:
    """Read and check the mapping TOML; a fatal error names the file and the key at fault."""
    cat = catalogue or CATALOGUE
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FatalInputError(p, "mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FatalInputError(p, f"not a valid TOML mapping: {exc}") from None
    cadence = doc.get("cadence", "weekly")
    if cadence not in CADENCES:
        raise FatalInputError(p, f"cadence must be weekly or monthly, got {cadence!r}")
    cols = doc.get("columns", {})
    cats_raw = doc.get("categories")
    if not isinstance(cats_raw, dict) or not cats_raw:
        raise FatalInputError(p, "[categories] is missing or empty: map each source category to indicators")
    categories: dict[str, tuple[str, ...]] = {}
    for src, target in cats_raw.items():
        keys = (target,) if isinstance(target, str) else tuple(target)
        for k in keys:
            if k not in cat:
                hint = cat.nearest(k)
                raise FatalInputError(
                    p,
                    f"categories.{src!r}: unknown indicator {k!r}"
                    + (f" (did you mean {hint!r}?)" if hint else ""),
                )
            if cat[k].family != "count":
                raise FatalInputError(p, f"categories.{src!r}: {k!r} is not a count indicator")
        categories[src.strip().casefold()] = keys
    coverage = []
    for i, c in enumerate(doc.get("coverage", [])):
        try:
            lo, hi = c["complete_from"], c["complete_to"]
            lo = lo if isinstance(lo, dt.date) else dt.date.fromisoformat(str(lo))
            hi = hi if isinstance(hi, dt.date) else dt.date.fromisoformat(str(hi))
        except (KeyError, ValueError):
            raise FatalInputError(
                p, f"coverage[{i}]: needs complete_from and complete_to as dates YYYY-MM-DD"
            ) from None
        if hi < lo:
            raise FatalInputError(p, f"coverage[{i}]: complete_to {hi} is before complete_from {lo}")
        coverage.append(Coverage(str(c.get("source", "*")), str(c.get("ward", "*")), lo, hi))
    start = str(doc.get("week_start", "monday")).strip().lower()
    if start not in WEEKDAYS:
        raise FatalInputError(p, f"week_start must be a day of the week (monday ... sunday), got {start!r}")
    return Mapping(
        week_start=WEEKDAYS.index(start) + 1,
        cadence=cadence,
        ward_column=_norm(cols.get("ward", "ward_id")),
        date_column=_norm(cols.get("date", "date")),
        category_column=_norm(cols.get("category", "category")),
        categories=categories,
        coverage=tuple(coverage),
    )


def period_start(day: pl.Expr, cadence: str, week_start: int = 1) -> pl.Expr:
    """The contract's period of a date: the first day of its week (``week_start``, ISO weekday), or
    the 1st of its month."""
    if cadence != "weekly":
        return day.dt.truncate("1mo")
    back = (day.dt.weekday().cast(pl.Int32) - week_start) % 7
    return day.dt.offset_by(pl.format("-{}d", back))
