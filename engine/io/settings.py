"""What the loader accepts as plausible (``[input]`` in the configuration file)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.ranges import Range


@dataclass(frozen=True)
class InputSettings:
    """The date window and the plausibility limits of observation values.

    Periods outside ``[earliest_period, latest_period]`` are rejected (``date_out_of_window``) and
    never extend the scoring calendar. Numerators and denominators above their family's limit are
    rejected (``implausible_value``): one mistyped value must not put a ward at ``urgent``.
    """

    earliest_period: str = field(
        default="2000-01-01", metadata={"doc": "earliest period accepted (YYYY-MM-DD)"}
    )
    latest_period: str = field(
        default="", metadata={"doc": "latest period accepted (YYYY-MM-DD); empty = one year after today"}
    )
    max_count: float = field(
        default=100_000.0,
        metadata={"doc": "largest count numerator in one period (counts)", "range": Range(1, 1e9)},
    )
    max_measure: float = field(
        default=10_000_000.0,
        metadata={"doc": "largest measure numerator in one period (hours, WTE...)", "range": Range(1, 1e12)},
    )
    max_denominator: float = field(
        default=100_000_000.0,
        metadata={
            "doc": "largest denominator in one period (bed-days, hours, admissions...)",
            "range": Range(1, 1e12),
        },
    )

    def __post_init__(self) -> None:
        lo, hi = self.window()
        if lo > hi:
            raise ValueError(f"earliest_period {lo} is after latest_period {hi}")

    def window(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        """The accepted period window ``(earliest, latest)``, both inclusive."""
        lo = _date(self.earliest_period, "earliest_period")
        if self.latest_period:
            return lo, _date(self.latest_period, "latest_period")
        t = today or dt.date.today()
        try:
            return lo, t.replace(year=t.year + 1)
        except ValueError:  # 29 February
            return lo, t.replace(year=t.year + 1, day=28)


def _date(text: str, what: str) -> dt.date:
    try:
        d = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what}: expected a date YYYY-MM-DD, got {text!r}") from None
    if len(text) != 10:
        raise ValueError(f"{what}: expected a date YYYY-MM-DD, got {text!r}")
    return d
