"""How people read dates: the UK formats, defined once.

Files keep ISO dates (``2025-03-03``). Everything a person reads uses UK formats, each with its job:

* :data:`UK_DATE_FORMAT` ``dd/mm/yyyy`` (:func:`uk_date`): tables, badges, tooltips, axes, inputs;
* :func:`long_date` ``3 March 2025``: dates inside sentences (explanations, briefings);
* :data:`MONTH_YEAR_FORMAT` ``March 2025``: a monthly period in a sentence;
* :data:`MONTH_AXIS_FORMAT` ``Mar 2025``: month ticks of a chart axis.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

#: strftime / Vega time format of a UK date in figures ("03/03/2025").
UK_DATE_FORMAT: Final = "%d/%m/%Y"
#: strftime format of the ISO dates that files keep ("2025-03-03").
ISO_DATE_FORMAT: Final = "%Y-%m-%d"
#: Formats a date a person types (a command-line option, a column of their file) is read in, in order.
INPUT_DATE_FORMATS: Final[tuple[str, ...]] = (ISO_DATE_FORMAT, UK_DATE_FORMAT)
#: strftime format of a month in words ("March 2025").
MONTH_YEAR_FORMAT: Final = "%B %Y"
#: Altair/Vega time format of month ticks on chart axes ("Jan 2024").
MONTH_AXIS_FORMAT: Final = "%b %Y"


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def parse_input_date(text: str) -> dt.date:
    """A date typed in one of :data:`INPUT_DATE_FORMATS` (``2025-03-03`` or ``03/03/2025``).

    Raises ``ValueError`` naming the accepted forms when ``text`` is neither.
    """
    for fmt in INPUT_DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date (YYYY-MM-DD or dd/mm/yyyy): {text!r}")


def uk_date(value: dt.date | str | None) -> str:
    """``dd/mm/yyyy`` for a date, datetime or ISO string; empty for missing."""
    if value is None or value == "":
        return ""
    return _as_date(value).strftime(UK_DATE_FORMAT)


def long_date(value: dt.date | str | None) -> str:
    """``3 March 2025`` (no leading zero: the date style of sentences); empty for missing."""
    if value is None or value == "":
        return ""
    day = _as_date(value)
    return f"{day.day} {day:{MONTH_YEAR_FORMAT}}"
