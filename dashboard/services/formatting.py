"""On-screen formatting: UK dates, numbers with units, level words and Excel-safe CSV.

Files keep ISO dates; everything a person reads (screen, briefing) uses ``dd/mm/yyyy`` (chart axes
``Jan 2024``) and UK local time (GMT or BST). Levels (names, order, words, colours) and date formats
come from ``engine.contract`` and are re-exported here; the other words and bands defined here are the
dashboard's and the briefing's: import them, never restate them.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zoneinfo

import polars as pl

# Re-exported from the contract (``X as X``): the dashboard imports them from here.
from engine.contract.dates import MONTH_AXIS_FORMAT, UK_DATE_FORMAT
from engine.contract.dates import long_date as long_date
from engine.contract.dates import uk_date as uk_date
from engine.contract.levels import LEVEL_COLOURS as LEVEL_COLOURS
from engine.contract.levels import LEVEL_RANK
from engine.contract.levels import LEVEL_TEXT_COLOURS as LEVEL_TEXT_COLOURS
from engine.contract.levels import LEVEL_WORDS as LEVEL_WORDS
from engine.contract.levels import VISIT_LEVELS as VISIT_LEVELS
from signals import CATALOGUE, Indicator

#: level -> rank (higher is more severe): the contract's ``LEVEL_RANK`` under its dashboard name.
LEVEL_ORDER: dict[str, int] = LEVEL_RANK
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
MONTH_AXIS = MONTH_AXIS_FORMAT
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


def uk_timestamp(value: str | None) -> str:
    """``dd/mm/yyyy HH:MM GMT`` (or ``BST``) in UK local time for a store timestamp (ISO 8601, UTC).

    A timestamp without an offset is taken as UTC (the store writes UTC with ``Z``).
    """
    if not value:
        return ""
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(UK_TZ).strftime(f"{UK_DATE_FORMAT} %H:%M %Z")


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
            exprs.append(col.dt.strftime(UK_DATE_FORMAT))
        elif dtype == pl.String:
            exprs.append(
                pl.when(col.str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + col).otherwise(col).alias(name)
            )
        else:
            exprs.append(col)
    buf = io.BytesIO()
    frame.select(exprs).write_csv(buf)
    return buf.getvalue()
