"""On-screen formatting: UK dates, numbers with units, level words and Excel-safe CSV.

Files keep ISO dates; everything a person reads (screen, briefing) uses ``dd/mm/yyyy``.
"""

from __future__ import annotations

import datetime as dt
import io
import math

import polars as pl

from signals import CATALOGUE, Indicator

#: level order used everywhere: most severe first when sorting descending.
LEVEL_ORDER: dict[str, int] = {"none": 0, "watch": 1, "concern": 2, "urgent": 3}
LEVEL_WORDS: dict[str, str] = {
    "none": "No concern",
    "watch": "Watch",
    "concern": "Concern",
    "urgent": "Urgent",
}
#: colour-blind-safe level colours (grey, NHS warm yellow, orange, NHS dark red), with text always.
LEVEL_COLOURS: dict[str, str] = {
    "none": "#a6a6a6",
    "watch": "#ffb81c",
    "concern": "#e46c0a",
    "urgent": "#8a1538",
}
DOMAIN_LABELS: dict[str, str] = {
    "restrictive_practice": "Restrictive practice",
    "harm_and_reporting": "Harm and reporting",
    "voice_and_oversight": "Voice and oversight",
    "staffing": "Staffing",
    "data_silence": "Data silence",
}
OUTCOME_WORDS: dict[str, str] = {
    "no_concern": "No concern found",
    "action_taken": "Action taken",
    "escalated_safeguarding": "Escalated to safeguarding",
}
STATUS_WORDS: dict[str, str] = {
    "new": "New",
    "acknowledged": "Acknowledged",
    "investigating": "Investigating",
    "closed": "Closed",
}

#: characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def uk_date(value: dt.date | str | None) -> str:
    """``dd/mm/yyyy`` for a date or ISO string; empty for missing."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.strftime("%d/%m/%Y")


def uk_timestamp(value: str | None) -> str:
    """``dd/mm/yyyy HH:MM UTC`` for a store timestamp (ISO 8601 with ``Z``)."""
    if not value:
        return ""
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t.strftime("%d/%m/%Y %H:%M UTC")


def indicator(key: str) -> Indicator | None:
    """Catalogue entry for ``key`` or ``None`` for an indicator the catalogue does not know."""
    try:
        return CATALOGUE[key]
    except KeyError:
        return None


def indicator_label(key: str | None) -> str:
    """Human label of an indicator key (the key itself when unknown)."""
    if not key:
        return ""
    ind = indicator(key)
    return ind.label if ind else key


def display_scale(key: str) -> tuple[float, str]:
    """(multiplier, unit words) that turn a raw rate into its display unit."""
    ind = indicator(key)
    if ind is None:
        return 1.0, ""
    if ind.scale == 100:
        return 100.0, "%"
    if not ind.exposure:
        return 1.0, ind.scale_label
    return float(ind.scale), ind.scale_label


def format_rate(key: str, rate: float | None, digits: int = 1) -> str:
    """A raw rate with its unit ("5.8 per 1,000 occupied bed days", "12.5%")."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "no data"
    ind = indicator(key)
    return ind.format_rate(float(rate), digits) if ind else f"{rate:,.{digits}f}"


def level_word(level: str | None) -> str:
    """Display word of a level."""
    return LEVEL_WORDS.get(level or "none", str(level))


def domain_label(domain: str) -> str:
    """Display label of a domain key."""
    return DOMAIN_LABELS.get(domain, domain.replace("_", " ").capitalize())


def split_list(value: str | None, sep: str = ";") -> list[str]:
    """Items of a ``;``-separated (or other) list column; empty items dropped."""
    if not value:
        return []
    return [v.strip() for v in str(value).split(sep) if v.strip()]


def excel_safe(value: object) -> object:
    """Neutralise a cell that a spreadsheet would run as a formula by prefixing ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame: pl.DataFrame) -> bytes:
    """CSV bytes of ``frame`` safe to open in Excel: text cells starting ``= + - @ TAB CR`` get ``'``.

    Dates are written ``dd/mm/yyyy`` for people; numbers are left as numbers.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            exprs.append(col.dt.strftime("%d/%m/%Y"))
        elif dtype == pl.String:
            exprs.append(
                pl.when(col.str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + col).otherwise(col).alias(name)
            )
        else:
            exprs.append(col)
    buf = io.BytesIO()
    frame.select(exprs).write_csv(buf)
    return buf.getvalue()
