"""Making Data Count variation and assurance icons as small SVG badges with their meaning in words.

Meanings follow NHS England's "Making Data Count" (see ``spc-methods.md`` §1.3-1.5):

* **Variation** (latest point's type): common cause (grey); special cause of *concerning* nature
  from higher (H) or lower (L) values (orange); of *improving* nature (blue); neither improvement
  nor concern when no direction is set (purple).
* **Assurance** (target against the process limits): consistently pass (P, blue), consistently
  fail (F, orange), hit and miss (?, grey); no icon without a target or for neutral measures.

Every badge carries an SVG ``<title>`` and the caller shows the meaning as text beside it, so colour
is never the only cue (colour-blind safe). The SVG holds only fixed text, never user input.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw

COMMON = "#a6a6a6"
CONCERN = "#e46c0a"
IMPROVEMENT = "#00b0f0"
NEUTRAL = "#490092"
FONT_STACK = "Liberation Sans, DejaVu Sans, Arial, sans-serif"

POINT_COLOURS: dict[str, str] = {
    "common_cause": COMMON,
    "special_cause_concern": CONCERN,
    "special_cause_improvement": IMPROVEMENT,
    "special_cause_neutral_high": NEUTRAL,
    "special_cause_neutral_low": NEUTRAL,
}
POINT_LABELS: dict[str, str] = {
    "common_cause": "Common cause",
    "special_cause_concern": "Special cause: concern",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_neutral_high": "Special cause: neither (high)",
    "special_cause_neutral_low": "Special cause: neither (low)",
}


@dataclass(frozen=True)
class Icon:
    """One MDC icon: key, colour, the letter drawn in it, and its meaning in words."""

    key: str
    colour: str
    letter: str
    meaning: str

    def data_uri(self, size: int = 36) -> str:
        """The badge as a base64 SVG data URI (an ``st.column_config.ImageColumn`` cell)."""
        import base64

        return "data:image/svg+xml;base64," + base64.b64encode(self.svg(size).encode()).decode()

    def img_tag(self, size: int = 36) -> str:
        """The badge as an ``<img>`` with a base64 SVG data URI (survives HTML sanitisers)."""
        return (
            f'<img src="{self.data_uri(size)}" width="{size}" height="{size}" '
            f'alt="{self.meaning}" title="{self.meaning}">'
        )

    def svg(self, size: int = 36) -> str:
        """The badge as an inline SVG string (fixed text only)."""
        r = size / 2
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}" role="img" aria-label="{self.meaning}">'
            f"<title>{self.meaning}</title>"
            f'<circle cx="{r}" cy="{r}" r="{r - 2}" fill="white" stroke="{self.colour}" stroke-width="3"/>'
            f'<text x="{r}" y="{r + size * 0.16}" text-anchor="middle" font-family="{FONT_STACK}" '
            f'font-weight="bold" font-size="{size * 0.45:.0f}" fill="{self.colour}">{self.letter}</text>'
            "</svg>"
        )


def variation_icon(last_point_type: str | None, direction: str) -> Icon:
    """Variation icon from the latest point's MDC type and the indicator's direction of concern.

    Parameters
    ----------
    last_point_type : str or None
        ``point_type`` of the latest observed point (``series.parquet``).
    direction : {"up", "down", "both"}
        Direction of concern from the catalogue (``up``: higher is worse).
    """
    pt = last_point_type or "common_cause"
    if pt == "special_cause_concern":
        high = direction != "down"  # concern on a rise-is-worse indicator comes from higher values
        return Icon(
            "concern_high" if high else "concern_low",
            CONCERN,
            "H" if high else "L",
            f"Special cause of concerning nature: {'higher' if high else 'lower'} values",
        )
    if pt == "special_cause_improvement":
        high = direction == "down"
        return Icon(
            "improvement_high" if high else "improvement_low",
            IMPROVEMENT,
            "H" if high else "L",
            f"Special cause of improving nature: {'higher' if high else 'lower'} values",
        )
    if pt in ("special_cause_neutral_high", "special_cause_neutral_low"):
        high = pt.endswith("high")
        return Icon(
            "neutral_high" if high else "neutral_low",
            NEUTRAL,
            "H" if high else "L",
            f"Special cause, neither improvement nor concern: {'higher' if high else 'lower'} values",
        )
    return Icon("common_cause", COMMON, "~", "Common cause variation: no significant change")


def assurance_icon(target: float | None, lpl: float, upl: float, direction: str) -> Icon | None:
    """Assurance icon for a target against the current process limits (``None`` without a target).

    ``direction`` ``up`` means higher is worse (improvement is a decrease). Equality with a limit
    is "hit and miss" (strict comparison, as NHSRplotthedots).
    """
    if target is None or direction == "both":
        return None
    lower_is_better = direction == "up"
    if target > upl:
        passing = lower_is_better
    elif target < lpl:
        passing = not lower_is_better
    else:
        return Icon("inconsistent", COMMON, "?", "Hit and miss: the target lies within the process limits")
    if passing:
        return Icon("consistent_pass", IMPROVEMENT, "P", "Will consistently meet the target")
    return Icon("consistent_fail", CONCERN, "F", "Will consistently fail the target")


@functools.cache
def favicon() -> Image.Image:
    """The browser-tab icon: an NHS Blue square with a white ward-watch dot (drawn locally)."""
    img = Image.new("RGB", (32, 32), "#005EB8")
    ImageDraw.Draw(img).ellipse((9, 9, 23, 23), fill="#FFFFFF")
    return img
