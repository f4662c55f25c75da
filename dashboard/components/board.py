"""Board-facing HTML pieces: level badges, bounded evidence bars and level-coloured callouts.

Colour is never the only cue: a badge carries the level word, a bar its strength word. Level
colours come from ``services.formatting`` (none of them is Making Data Count's improvement blue).
Every piece of text passed in is HTML-escaped here; callers pass plain text.
"""

from __future__ import annotations

import html

from dashboard.services.formatting import (
    LEVEL_COLOURS,
    LEVEL_TEXT_COLOURS,
    LEVEL_WORDS,
    strength_word,
)

#: bar colour of the evidence strength (NHS dark grey blue: a quantity, not a judgement).
BAR_COLOUR = "#425563"


def level_badge(level: str | None, *, large: bool = False) -> str:
    """A rounded badge with the level word on the level colour."""
    lv = level or "none"
    bg = LEVEL_COLOURS.get(lv, LEVEL_COLOURS["none"])
    fg = LEVEL_TEXT_COLOURS.get(lv, "#231f20")
    size = "1.05rem" if large else "0.85rem"
    return (
        f'<span class="ww-badge ww-level-{html.escape(lv)}" style="background:{bg};color:{fg};'
        f"padding:2px 10px;border-radius:12px;font-weight:700;font-size:{size};white-space:nowrap"
        f'">{html.escape(LEVEL_WORDS.get(lv, lv.capitalize()))}</span>'
    )


def strength_bar(strength: float | None, *, width_px: int = 120) -> str:
    """A bounded bar (0-100 %) of ``evidence_strength`` with its word beside it."""
    value = 0.0 if strength is None or strength != strength else min(max(float(strength), 0.0), 1.0)
    word = strength_word(value)
    return (
        f'<span class="ww-strength" title="Current evidence: {html.escape(word)}" '
        f'style="display:inline-flex;align-items:center;gap:6px">'
        f'<span style="display:inline-block;width:{width_px}px;height:10px;background:#e8edee;'
        f'border-radius:5px;overflow:hidden"><span style="display:block;height:100%;'
        f'width:{100 * value:.0f}%;background:{BAR_COLOUR}"></span></span>'
        f"<span>{html.escape(word)}</span></span>"
    )


def level_callout(level: str | None, title: str, body: str) -> str:
    """A box with a level-coloured left border (never the blue of an ``st.info`` box)."""
    lv = level or "none"
    colour = LEVEL_COLOURS.get(lv, LEVEL_COLOURS["none"])
    return (
        f'<div class="ww-callout ww-callout-{html.escape(lv)}" style="border-left:6px solid {colour};'
        f'background:#f7f7f7;padding:10px 14px;border-radius:4px;margin:4px 0 8px 0">'
        f"<div style='font-weight:700;margin-bottom:4px'>{html.escape(title)}</div>"
        f"<div>{html.escape(body)}</div></div>"
    )
