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

import numpy as np
from PIL import Image, ImageDraw

from engine.charts import codes
from engine.charts import icons as engine_icons

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


#: catalogue direction of concern -> Making Data Count improvement direction code of
#: :mod:`engine.charts.icons` (``up``: higher is worse, so improvement is a decrease).
_IMPROVEMENT_DIRECTION: dict[str, int] = {
    d: codes.DIRECTION_CODES[m] for d, m in {"up": "decrease", "down": "increase", "both": "neutral"}.items()
}
_POINT_CODES: dict[str, int] = {label: code for code, label in enumerate(codes.POINT_TYPE_LABELS)}

#: variation icon code (``engine.charts.codes``) -> how the dashboard draws and words it.
_VARIATION_ICONS: dict[int, Icon] = {
    codes.V_COMMON: Icon("common_cause", COMMON, "~", "Common cause variation: no significant change"),
    codes.V_CONCERN_HIGH: Icon(
        "concern_high", CONCERN, "H", "Special cause of concerning nature: higher values"
    ),
    codes.V_CONCERN_LOW: Icon(
        "concern_low", CONCERN, "L", "Special cause of concerning nature: lower values"
    ),
    codes.V_IMPROVEMENT_HIGH: Icon(
        "improvement_high", IMPROVEMENT, "H", "Special cause of improving nature: higher values"
    ),
    codes.V_IMPROVEMENT_LOW: Icon(
        "improvement_low", IMPROVEMENT, "L", "Special cause of improving nature: lower values"
    ),
    codes.V_NEUTRAL_HIGH: Icon(
        "neutral_high", NEUTRAL, "H", "Special cause, neither improvement nor concern: higher values"
    ),
    codes.V_NEUTRAL_LOW: Icon(
        "neutral_low", NEUTRAL, "L", "Special cause, neither improvement nor concern: lower values"
    ),
}
#: assurance icon code -> how the dashboard draws and words it.
_ASSURANCE_ICONS: dict[int, Icon] = {
    codes.A_PASS: Icon("consistent_pass", IMPROVEMENT, "P", "Will consistently meet the target"),
    codes.A_FAIL: Icon("consistent_fail", CONCERN, "F", "Will consistently fail the target"),
    codes.A_HIT_AND_MISS: Icon(
        "inconsistent", COMMON, "?", "Hit and miss: the target lies within the process limits"
    ),
}


def variation_icon(last_point_type: str | None, direction: str) -> Icon:
    """Variation icon from the latest point's MDC type and the indicator's direction of concern.

    The icon is chosen by :func:`engine.charts.icons.variation_icon` (the one implementation of
    the NHSRplotthedots rules); this function translates the dashboard's inputs and draws it.

    Parameters
    ----------
    last_point_type : str or None
        ``point_type`` of the latest observed point (``series.parquet``); None, empty or unknown
        reads as common cause.
    direction : {"up", "down", "both"}
        Direction of concern from the catalogue (``up``: higher is worse).
    """
    point = _POINT_CODES.get(last_point_type or "common_cause", codes.COMMON_CAUSE)
    code = engine_icons.variation_icon(np.array([point]), np.array([_IMPROVEMENT_DIRECTION[direction]]))
    return _VARIATION_ICONS[int(code[0])]


def assurance_icon(target: float | None, lpl: float, upl: float, direction: str) -> Icon | None:
    """Assurance icon for a target against the current process limits (``None`` without a target,
    for a measure with no direction of concern, or when the limits are unknown).

    Chosen by :func:`engine.charts.icons.assurance_icon`; ``direction`` ``up`` means higher is
    worse (improvement is a decrease). Equality with a limit is "hit and miss" (strict comparison,
    as NHSRplotthedots).
    """
    code = engine_icons.assurance_icon(
        np.array([lpl], dtype=float),
        np.array([upl], dtype=float),
        target,
        np.array([_IMPROVEMENT_DIRECTION[direction]]),
    )
    return _ASSURANCE_ICONS.get(int(code[0]))


@functools.cache
def favicon() -> Image.Image:
    """The browser-tab icon: an NHS Blue square with a white ward-watch dot (drawn locally)."""
    img = Image.new("RGB", (32, 32), "#005EB8")
    ImageDraw.Draw(img).ellipse((9, 9, 23, 23), fill="#FFFFFF")
    return img
