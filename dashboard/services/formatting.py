"""On-screen formatting: UK dates, numbers with units, level words and Excel-safe CSV.

Files keep ISO dates; everything a person reads (screen, briefing) uses ``dd/mm/yyyy`` (chart axes
``Jan 2024``) and UK local time (GMT or BST). The words, colours and bands defined here are the one
vocabulary of the dashboard and the briefing: import them, never restate them.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zoneinfo

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
#: None of them is Making Data Count's improvement blue; the concern orange means concern there too.
LEVEL_COLOURS: dict[str, str] = {
    "none": "#a6a6a6",
    "watch": "#ffb81c",
    "concern": "#e46c0a",
    "urgent": "#8a1538",
}
#: text colour on a level badge (dark on the light yellow and grey, white on orange and red).
LEVEL_TEXT_COLOURS: dict[str, str] = {
    "none": "#231f20",
    "watch": "#231f20",
    "concern": "#ffffff",
    "urgent": "#ffffff",
}
#: levels a board is asked to visit ("wards to visit"): a ward alert is open at these levels.
VISIT_LEVELS: tuple[str, ...] = ("urgent", "concern")
WARD_TYPE_LABELS: dict[str, str] = {
    "acute_adult": "Acute adult",
    "picu": "Psychiatric intensive care (PICU)",
    "ld_autism": "Learning disability and autism",
    "forensic": "Forensic (secure)",
    "camhs": "Children and young people (CAMHS)",
    "older_adult": "Older adult",
    "rehab": "Rehabilitation",
    "other": "Other",
}
#: event kinds of ``events.csv`` in words.
EVENT_WORDS: dict[str, str] = {
    "manager_change": "Change of ward manager",
    "reconfiguration": "Ward reconfigured (new baseline)",
    "rebase": "New baseline set",
    "note": "Note",
}
#: words for ``evidence_strength`` (results contract): (upper bound, word), the first bound above wins.
#: The strength is ``recent / (recent + urgent threshold)``: 1/3 is half an urgent threshold of
#: evidence gained in 13 weeks, 1/2 one threshold, 3/4 three thresholds.
STRENGTH_BANDS: tuple[tuple[float, str], ...] = (
    (0.01, "No new evidence"),
    (1 / 3, "Weak"),
    (0.5, "Moderate"),
    (0.75, "Strong"),
    (1.01, "Very strong"),
)
#: Altair/Vega time format of chart axes ("Jan 2024").
MONTH_AXIS = "%b %Y"
UK_TZ = zoneinfo.ZoneInfo("Europe/London")
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
    """``dd/mm/yyyy HH:MM GMT`` (or ``BST``) in UK local time for a store timestamp (ISO 8601, UTC).

    A timestamp without an offset is taken as UTC (the store writes UTC with ``Z``).
    """
    if not value:
        return ""
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(UK_TZ).strftime("%d/%m/%Y %H:%M %Z")


def long_date(value: dt.date | str | None) -> str:
    """``3 March 2025`` (the date style of sentences); empty for missing."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day} {value:%B %Y}"


def ward_type_label(code: str | None) -> str:
    """Display label of a ward-type code (the code, tidied, when unknown)."""
    if not code:
        return "Other"
    return WARD_TYPE_LABELS.get(code, str(code).replace("_", " ").capitalize())


def event_words(kind: str | None) -> str:
    """An event kind in words (``manager_change`` -> "Change of ward manager")."""
    if not kind:
        return "Event"
    return EVENT_WORDS.get(kind, str(kind).replace("_", " ").capitalize())


def strength_word(strength: float | None) -> str:
    """Words for a bounded evidence strength in [0, 1] (see :data:`STRENGTH_BANDS`)."""
    if strength is None or (isinstance(strength, float) and math.isnan(strength)):
        return STRENGTH_BANDS[0][1]
    for bound, word in STRENGTH_BANDS:
        if strength < bound:
            return word
    return STRENGTH_BANDS[-1][1]


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
