"""Plain-English explanations of alerts, with numbers, units and UK dates.

Everything here is formatting: the numbers are computed by the engine and passed in. The sentences
follow the house style a board member reads in a briefing::

    Restraint has averaged 9.1 per 1,000 occupied bed days for 7 weeks against a usual 5.8; the rise
    probably began around 3 March 2025.
    Family and carer visits have averaged 13.9 per 1,000 occupied bed days for 6 weeks against a
    usual 65.2; the fall probably began around 1 May 2023.
    Complaints and concerns: none for 11 weeks, where about 3 would be usual.

The verb agrees with the indicator's label (:func:`has_have`). Board-facing text never names the
statistic's units (nats) or model parameters; those stay in the analysts' views.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from engine.contract.dates import long_date
from engine.contract.levels import LEVEL_PHRASES
from signals import CATALOGUE, Indicator

DOMAIN_WORDS: dict[str, str] = {
    "restrictive_practice": "restrictive practice",
    "harm_and_reporting": "harm and reporting",
    "voice_and_oversight": "voice and oversight",
    "staffing": "staffing",
    "data_silence": "missing data",
    "context": "context",
}

#: how a sentence about a ward at each level opens (the contract's ``LEVEL_PHRASES``: "Urgent concern").
LEVEL_WORDS: dict[str, str] = LEVEL_PHRASES


@lru_cache(maxsize=4096)  # alerts repeat the same few hundred period dates tens of thousands of times
def sentence_date(day: dt.date) -> str:
    """``3 March 2025`` (no leading zero): :func:`engine.contract.long_date`, cached."""
    return long_date(day)


#: former name of :func:`sentence_date`, kept for existing callers (not the ``dd/mm/yyyy``
#: :func:`engine.contract.uk_date`).
uk_date = sentence_date


def _periods(count: int, cadence: str) -> str:
    unit = "week" if cadence == "weekly" else "month"
    return f"{count} {unit}" + ("" if count == 1 else "s")


def _about(x: float) -> str:
    """An expected count in words people read easily: 0.4 -> 'fewer than 1', 2.6 -> 'about 3'."""
    if x < 0.95:
        return "fewer than 1"
    return f"about {x:,.0f}"


#: words that look plural but head a singular label ("Sickness absence", "Mandatory training").
_SINGULAR_ENDINGS = ("ss", "us", "is")


def is_plural(label: str) -> bool:
    """Whether an indicator label reads as a plural subject ("Family and carer visits", "Vacancies").

    Plural when its first or last word is a plural noun (ends in ``s`` but not ``ss``/``us``/``is``)
    or starts with "People": "Patient injuries", "Hours in seclusion or segregation", "Changes of
    ward manager" are plural; "Physical restraint", "Agency staff", "Sickness absence" are not.
    """
    words = [w.strip("()").lower() for w in label.split() if w.strip("()")]
    if not words:
        return False
    if words[0] == "people":
        return True
    return any(w.endswith("s") and not w.endswith(_SINGULAR_ENDINGS) for w in (words[0], words[-1]))


def has_have(label: str) -> str:
    """``has`` or ``have`` to agree with an indicator label ("Family and carer visits have")."""
    return "have" if is_plural(label) else "has"


def _and_join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


@dataclass(frozen=True)
class IndicatorEvidence:
    """What one indicator contributed, in the numbers a sentence needs.

    Attributes
    ----------
    indicator:
        Catalogue key.
    kind:
        ``shift`` (rate moved in ``direction``), ``silence`` (a run of zero counts) or
        ``data_silence`` (no usable data).
    direction:
        ``up`` or ``down`` (the direction of the change).
    periods:
        Number of periods the evidence covers (since the onset estimate, or the zero/missing run).
    cadence:
        ``weekly`` or ``monthly``.
    observed_rate, expected_rate:
        Raw rates (numerator / denominator) over those periods; for silence, ignored.
    expected_count:
        For silence: the number of events that would usually have been seen over the run.
    onset:
        First period of the change (onset estimate), when known.
    peer_based:
        The expected rate is the peer group's (same ward type): the ward has no baseline of its own yet.
    """

    indicator: str
    kind: Literal["shift", "silence", "data_silence"]
    direction: Literal["up", "down"]
    periods: int
    cadence: str
    observed_rate: float = float("nan")
    expected_rate: float = float("nan")
    expected_count: float = float("nan")
    onset: dt.date | None = None
    peer_based: bool = False


def describe(ev: IndicatorEvidence, catalogue: Mapping[str, Indicator] | None = None) -> str:
    """One sentence for one indicator's evidence."""
    ind = (catalogue or CATALOGUE)[ev.indicator]
    span = _periods(ev.periods, ev.cadence)
    if ev.kind == "silence":
        return f"{ind.label}: none for {span}, where {_about(ev.expected_count)} would be usual."
    if ev.kind == "data_silence":
        if ev.expected_count == ev.expected_count and ev.expected_count > 0:  # judged against peers
            return (
                f"{ind.label}: no usable data for {span} while its {ind.denominator or 'exposure'} "
                f"and its peers' figures were reported; {_about(ev.expected_count)} would be usual "
                "over that time. Check the recording."
            )
        return f"{ind.label}: no usable data for {span}."
    observed = ind.format_rate(ev.observed_rate)
    usual = ind.format_rate(ev.expected_rate)
    usual_number = usual.split(" ")[0] if ind.scale != 100 else usual
    change = "rise" if ev.direction == "up" else "fall"
    if ev.peer_based:
        text = (
            f"{ind.label} {has_have(ind.label)} averaged {observed} for {span} against {usual_number} on "
            "similar wards (compared with its peers: the ward has no baseline of its own yet)"
        )
    else:
        text = (
            f"{ind.label} {has_have(ind.label)} averaged {observed} for {span} against a usual {usual_number}"
        )
    if ev.onset is not None:
        text += f"; the {change} probably began around {sentence_date(ev.onset)}"
    return text + "."


def ward_headline(level: str, domains: list[str], since: dt.date | None) -> str:
    """Opening sentence of a ward explanation: the level and the domains showing the pattern."""
    words = [DOMAIN_WORDS.get(d, d) for d in domains]
    head = LEVEL_PHRASES.get(level, level)
    if not words:
        return f"{head}."
    text = f"{head}: the ward shows evidence in {_and_join(words)}"
    if level in {"concern", "urgent"} and len(words) >= 2:
        text += ", the pattern inquiries found before closed cultures were exposed"
    if since is not None:
        text += f", building since around {sentence_date(since)}"
    return text + "."


def ward_explanation(
    level: str,
    domains: list[str],
    since: dt.date | None,
    evidence: list[IndicatorEvidence],
    max_items: int = 5,
    catalogue: Mapping[str, Indicator] | None = None,
) -> str:
    """Headline plus up to ``max_items`` indicator sentences (strongest first, as given)."""
    parts = [ward_headline(level, domains, since)]
    parts += [describe(ev, catalogue) for ev in evidence[:max_items]]
    return " ".join(parts)


def provider_deterioration_explanation(
    provider: str, wards: list[str], peak: int, since: dt.date | None
) -> str:
    """Sentence for several wards of one provider at ``concern`` at the same time."""
    listed = ", ".join(wards)
    text = (
        f"{peak} wards of {provider} are at concern at the same time ({len(wards)} wards in this "
        f"alert: {listed}). Each ward's own pattern is a closed-culture warning sign; several wards of "
        "one provider deteriorating together points to the provider's leadership, staffing or "
        "oversight (as at the Edenfield Centre), not to a reporting artefact, so each ward's concern stands"
    )
    if since is not None:
        text += f"; it began around {sentence_date(since)}"
    return text + "."


def provider_explanation(
    provider: str, indicator: str, direction: str, wards: int, since: dt.date | None
) -> str:
    """Sentence for a change seen across most wards of a provider at once."""
    ind = CATALOGUE.get(indicator)
    label = ind.label if ind else indicator
    move = "risen" if direction == "up" else "fallen"
    text = (
        f"{label} {has_have(label)} {move} on most wards of {provider} at the same time ({wards} wards). "
        "A change everywhere at once usually has a common cause (a new reporting system, a changed "
        "definition, seasonal pressure) and is reported once here rather than as a concern on each ward"
    )
    if since is not None:
        text += f"; it began around {sentence_date(since)}"
    return text + "."
