"""The declarative definition of one ward indicator.

An :class:`Indicator` says what is counted (numerator), over what (denominator or exposure), how it is
displayed (scale and unit), which way is worrying (direction of concern), which closed-culture
warning sign it speaks to and what a board member could ask about it on a visit. It holds no data and
no statistics: the engine reads ``family``, ``exposure`` and ``direction`` to choose its models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Domain = Literal[
    "restrictive_practice",
    "harm_and_reporting",
    "voice_and_oversight",
    "staffing",
    "data_silence",
    "context",
]
Family = Literal["count", "proportion", "measure"]
Direction = Literal["up", "down", "both"]
Cadence = Literal["weekly", "monthly"]

#: The four closed-culture domains whose joint movement is the "constellation" (plus data silence,
#: which the combination treats separately, and "context", which is charted but never alerts).
CULTURE_DOMAINS: tuple[str, ...] = (
    "restrictive_practice",
    "harm_and_reporting",
    "voice_and_oversight",
    "staffing",
)
DOMAINS: tuple[str, ...] = (*CULTURE_DOMAINS, "data_silence", "context")
FAMILIES: tuple[str, ...] = ("count", "proportion", "measure")
DIRECTIONS: tuple[str, ...] = ("up", "down", "both")
CADENCES: tuple[str, ...] = ("weekly", "monthly")

#: Ward types of the ward register (data contract).
WARD_TYPES: tuple[str, ...] = (
    "acute_adult",
    "picu",
    "ld_autism",
    "forensic",
    "camhs",
    "older_adult",
    "rehab",
    "other",
)


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry.

    Attributes
    ----------
    key:
        Machine key used in data files (``restraint``); lower-case, ``[a-z0-9_]``.
    label:
        Short human label ("Physical restraint").
    description:
        One plain-English sentence of what is counted.
    domain:
        Closed-culture domain the indicator belongs to.
    family:
        ``count`` (integer events), ``proportion`` (numerator out of denominator, ``0 <= p <= 1``)
        or ``measure`` (a non-integer amount such as hours).
    exposure:
        True when a denominator is required (occupied bed days, headcount, shifts ...). For a
        ``proportion`` it is always True.
    numerator, denominator:
        What each column means, with its unit ("physical restraints", "occupied bed days").
    scale, scale_label:
        Display multiplier and its words: a rate ``numerator / denominator * scale`` is shown as
        "5.8 per 1,000 occupied bed days" (``scale=1000``) or "12.5%" (``scale=100``).
    direction:
        Direction of concern: ``up`` (a rise is worrying), ``down`` (a fall is worrying: silence) or
        ``both`` (a rise is harm, a fall is under-reporting).
    cadence:
        How trusts usually report it; the loader infers the real cadence from the data.
    fractional:
        True when the numerator may be non-integer (hours, WTE): checked by the loader.
    why:
        Why it matters for closed cultures, naming the warning sign and its source.
    questions:
        One or two questions a board member could ask on a ward visit.
    typical_rate:
        Published national rates in display units (``scale``), as ``(ward_type, rate)`` pairs; the
        ward type ``*`` applies to every type without its own. The last level of the cold-start
        prior (:mod:`engine.baselines.coldstart`); empty when no source is known.
    typical_rate_cv:
        Coefficient of variation of services' true rates around ``typical_rate`` (how far a
        service may be from the national figure in control); the weight of the national figure
        against the trust's own peers follows from it.
    """

    key: str
    label: str
    description: str
    domain: Domain
    family: Family
    exposure: bool
    numerator: str
    denominator: str | None
    scale: float
    scale_label: str
    direction: Direction
    cadence: Cadence = "weekly"
    fractional: bool = False
    why: str = ""
    questions: tuple[str, ...] = field(default_factory=tuple)
    typical_rate: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    typical_rate_cv: float = 0.7

    def typical_rate_for(self, ward_type: str) -> float:
        """Published rate per unit exposure (``typical_rate`` / ``scale``) for a ward type; NaN if none."""
        rates = dict(self.typical_rate)
        rate = rates.get(ward_type, rates.get("*", float("nan")))
        return float(rate) / self.scale

    @property
    def is_proportion(self) -> bool:
        """True for binomial-like indicators (numerator cannot exceed denominator)."""
        return self.family == "proportion"

    @property
    def improvement_direction(self) -> Literal["increase", "decrease", "neutral"]:
        """Making Data Count improvement direction implied by the direction of concern."""
        improvement: dict[str, Literal["increase", "decrease", "neutral"]] = {
            "up": "decrease",
            "down": "increase",
            "both": "neutral",
        }
        return improvement[self.direction]

    def format_rate(self, rate: float, digits: int = 1) -> str:
        """Format a raw rate (numerator / denominator, or a plain count) with its display unit."""
        if rate != rate:  # NaN
            return "no data"
        if self.scale == 100:
            return f"{rate * 100:.{digits}f}%"
        if not self.exposure:
            return f"{rate:.{digits}f} {self.scale_label}".rstrip()
        return f"{rate * self.scale:,.{digits}f} {self.scale_label}"
