"""The alert level vocabulary: names, order, words and colours, defined once.

A ward (or an indicator alert) is at one of four levels, from least to most severe::

    none < watch < concern < urgent

Files (``ward_status.csv``, ``alerts.csv``, the triage store) hold the lower-case *name*; arrays
hold the *rank* (``int8``, 0-3). People read two forms of words, each with its own job:

* ``word``: the short label of a badge, a table cell, a filter or a chart legend ("Urgent");
* ``phrase``: how a sentence about a ward opens ("Urgent concern: the ward shows evidence in ...").

Colours are colour-blind safe (grey, NHS warm yellow, orange, NHS dark red) and always come with
text; none of them is Making Data Count's improvement blue.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Level(StrEnum):
    """An alert level; its value is the name written to files (``"urgent"``)."""

    NONE = "none"
    WATCH = "watch"
    CONCERN = "concern"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """Severity 0 (none) to 3 (urgent): the level's code in arrays, higher is more severe."""
        return _RANK[self]

    @property
    def word(self) -> str:
        """Short label for badges, tables, filters and legends ("Urgent")."""
        return _WORD[self]

    @property
    def phrase(self) -> str:
        """Opening of a sentence about a ward at this level ("Urgent concern")."""
        return _PHRASE[self]

    @property
    def meaning(self) -> str:
        """What the level says about a ward, in a board member's words."""
        return _MEANING[self]

    @property
    def colour(self) -> str:
        """Badge background colour (hex)."""
        return _COLOUR[self]

    @property
    def text_colour(self) -> str:
        """Text colour on the badge: dark on the light yellow and grey, white on orange and red."""
        return _TEXT_COLOUR[self]

    @classmethod
    def of_rank(cls, rank: int) -> Level:
        """The level with severity ``rank`` (0-3)."""
        return LEVEL_ORDER[rank]


#: the levels in severity order: ``LEVEL_ORDER[rank]``.
LEVEL_ORDER: Final[tuple[Level, ...]] = (Level.NONE, Level.WATCH, Level.CONCERN, Level.URGENT)
_RANK: Final[dict[Level, int]] = {lv: i for i, lv in enumerate(LEVEL_ORDER)}
_WORD: Final[dict[Level, str]] = {
    Level.NONE: "No concern",
    Level.WATCH: "Watch",
    Level.CONCERN: "Concern",
    Level.URGENT: "Urgent",
}
_PHRASE: Final[dict[Level, str]] = _WORD | {Level.URGENT: "Urgent concern"}
_MEANING: Final[dict[Level, str]] = {
    Level.NONE: "no combined evidence of a closed culture this week",
    Level.WATCH: "evidence in one domain or one strong signal, worth keeping an eye on",
    Level.CONCERN: "the closed-culture pattern, with evidence in two or more domains at once",
    Level.URGENT: "the closed-culture pattern with strong restrictive-practice or harm evidence",
}
_COLOUR: Final[dict[Level, str]] = {
    Level.NONE: "#a6a6a6",
    Level.WATCH: "#ffb81c",
    Level.CONCERN: "#e46c0a",
    Level.URGENT: "#8a1538",
}
_TEXT_COLOUR: Final[dict[Level, str]] = {
    Level.NONE: "#231f20",
    Level.WATCH: "#231f20",
    Level.CONCERN: "#ffffff",
    Level.URGENT: "#ffffff",
}

# Plain-dict views (name -> value, in severity order) for polars ``replace_strict`` and lookups.
#: level names in severity order: ``LEVEL_NAMES[rank]``.
LEVEL_NAMES: Final[tuple[str, ...]] = tuple(lv.value for lv in LEVEL_ORDER)
#: name -> rank (0-3).
LEVEL_RANK: Final[dict[str, int]] = {lv.value: lv.rank for lv in LEVEL_ORDER}
#: name -> short label (badges, tables, filters, legends).
LEVEL_WORDS: Final[dict[str, str]] = {lv.value: lv.word for lv in LEVEL_ORDER}
#: name -> sentence opening (explanations and briefings).
LEVEL_PHRASES: Final[dict[str, str]] = {lv.value: lv.phrase for lv in LEVEL_ORDER}
#: name -> what the level means, in words.
LEVEL_MEANINGS: Final[dict[str, str]] = {lv.value: lv.meaning for lv in LEVEL_ORDER}
#: name -> badge colour.
LEVEL_COLOURS: Final[dict[str, str]] = {lv.value: lv.colour for lv in LEVEL_ORDER}
#: name -> text colour on the badge.
LEVEL_TEXT_COLOURS: Final[dict[str, str]] = {lv.value: lv.text_colour for lv in LEVEL_ORDER}
#: levels a board is asked to visit ("wards to visit"), most severe first.
VISIT_LEVELS: Final[tuple[str, ...]] = (Level.URGENT.value, Level.CONCERN.value)
