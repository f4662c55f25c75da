"""Walk-the-patch briefing: exactly one printable A4 page per ward (HTML, then PDF with WeasyPrint).

data (:func:`build_briefing`) -> Jinja2 HTML with autoescape (:func:`render_html`) -> WeasyPrint PDF
(:func:`render_briefing`: each ward's page is measured and, if it would spill, shortened step by step
by :func:`shorter` - notes first, cut with "more in the inbox" - and the template clips the section to
one page as a last resort, so the PDF has one page per ward whatever the notes).

Content: the level and how long it has held, the "why" (the ward alert's explanation), questions
about the indicators the "why" names (:func:`why_indicators`), what changed since the last visit,
the charts of those indicators - the same charts as the dashboard
(:func:`dashboard.components.charts.ward_charts`: the chart that fits each series) - and the triage
state, owner and latest notes of the ward's alerts. Times are UK local time (Europe/London).

Charts are SVG images (data URIs) from ``vl_convert``, drawn as vectors in the PDF and shown by the
dashboard's HTML preview alike; the SVG and the template carry a font stack (Liberation Sans, DejaVu
Sans, Arial, sans-serif) so text never disappears when one font is missing. All user text (ward
names, explanations, notes, event notes) goes through Jinja's autoescape; only the chart images
produced here from our own chart specs are marked safe. The same renderer serves the dashboard's
download buttons and ``wardwatch brief``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dashboard.components.charts import IndicatorChart, for_print, mdc_chart, ward_charts
from dashboard.components.icons import FONT_STACK
from dashboard.services.formatting import (
    domain_label,
    indicator,
    indicator_label,
    level_word,
    split_list,
    uk_date,
    ward_type_label,
)
from dashboard.services.provider_share import ward_provider_sentences
from dashboard.services.results import Results, ward_series
from engine.contract.dates import UK_DATE_FORMAT
from engine.contract.levels import LEVEL_MEANINGS
from engine.store import UnknownAlertError
from signals import CATALOGUE

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: what each level means, in words (the contract's ``LEVEL_MEANINGS``).
LEVEL_MEANING: dict[str, str] = LEVEL_MEANINGS


@dataclass(frozen=True)
class BriefingSettings:
    """Content settings of a ward briefing (one A4 page per ward; longer content is shortened)."""

    #: indicator charts per ward (the indicators named in the "why" first).
    max_charts: int = 3
    #: weeks of history drawn in each chart (monthly, T and run charts: twice as long).
    chart_weeks: int = 52
    #: questions listed per ward.
    max_questions: int = 5
    #: triage notes listed per ward (most recent); the rest are counted as "more in the inbox".
    max_notes: int = 3
    #: characters of one note shown before it is cut with an ellipsis.
    note_chars: int = 240
    #: items listed under "what has changed" (most important first).
    max_changes: int = 5
    #: default look-back when no last-visit date is given (days).
    default_lookback_days: int = 91


#: UK local time for everything a person reads (GMT / BST).
UK_TZ = ZoneInfo("Europe/London")
TRIAGE_STATUS_WORDS = {
    "new": "new, not yet acknowledged",
    "acknowledged": "acknowledged",
    "investigating": "under investigation",
    "closed": "closed",
}


@dataclass(frozen=True)
class BriefingChart:
    """One chart of a briefing: title, SVG image (trusted, generated here) and its text summary."""

    title: str
    svg: Markup
    summary: str
    kind: str = "xmr"


@dataclass(frozen=True)
class BriefingNote:
    """A triage note shown on the briefing (text escaped at render time).

    ``about`` names the alert, ``status`` and ``owner`` its triage state when the note was printed.
    """

    when: str
    author: str
    text: str
    about: str = ""
    status: str = ""
    owner: str = ""


@dataclass(frozen=True)
class WardBriefing:
    """Everything one ward's briefing page shows (plain data; escaping happens in the template)."""

    ward_id: str
    ward_name: str
    provider: str
    ward_type_label: str
    level: str
    level_word: str
    status_text: str
    explanation: str
    as_of_text: str
    since_text: str
    charts: tuple[BriefingChart, ...] = field(default_factory=tuple)
    changes: tuple[str, ...] = field(default_factory=tuple)
    questions: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[BriefingNote, ...] = field(default_factory=tuple)
    #: one line per open alert of the ward: its triage status and owner
    triage: tuple[str, ...] = field(default_factory=tuple)
    #: notes not printed (shortened to fit the page): "N more in the inbox"
    notes_more: int = 0
    #: indicators named in the "why", in the order it names them
    why_indicators: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class BriefingOutput:
    """Rendered briefing: HTML always; PDF bytes when WeasyPrint works, else ``None`` and a note."""

    html: str
    pdf: bytes | None
    note: str = ""
    #: printed pages (one per ward by construction; None without a PDF)
    pages: int | None = None


def svg_of(chart: object, width: int = 640, height: int = 160) -> Markup:
    """Static SVG of an Altair chart as an ``<img>`` with a data URI (print size, font stack).

    An image rather than inline SVG: WeasyPrint draws it as vector graphics in the PDF and the
    dashboard's HTML preview shows it too (HTML sanitisers strip inline ``<svg>``), so the preview
    and the PDF show the same charts.
    """
    import base64

    import vl_convert as vlc

    spec = for_print(chart, width=width, height=height).to_json()  # type: ignore[arg-type]
    svg = vlc.vegalite_to_svg(spec)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    # generated by vl-convert from our own spec; the data URI is base64 (no markup can escape it)
    return Markup(f'<img class="chart" alt="chart" src="data:image/svg+xml;base64,{data}">')


def uk_local_time(value: str | dt.datetime | None) -> str:
    """``dd/mm/yyyy HH:MM GMT|BST`` in UK local time for a store timestamp (ISO 8601, UTC) or datetime."""
    if not value:
        return ""
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    local = t.astimezone(UK_TZ)
    return f"{local:{UK_DATE_FORMAT} %H:%M} {local.tzname()}"


def why_indicators(explanation: str, fallback: list[str]) -> list[str]:
    """Indicators named in the "why" text, in the order it names them (``fallback`` when none).

    A label counts when it starts a sentence or follows a comma/semicolon (how explanations name the
    indicator a sentence is about); longer labels are matched first so "Physical restraint" is not
    read as "restraint".
    """
    text = explanation or ""
    found: dict[str, int] = {}
    taken: list[tuple[int, int]] = []
    for key, ind in sorted(CATALOGUE.items(), key=lambda kv: -len(kv[1].label)):
        for m in re.finditer(rf"(?:^|[.;:]\s+){re.escape(ind.label)}\b", text):
            start = m.end() - len(ind.label)
            if any(a <= start < b for a, b in taken):
                continue
            taken.append((start, start + len(ind.label)))
            found.setdefault(key, start)
    ordered = sorted(found, key=found.__getitem__)
    return ordered or list(fallback)


def _ward_indicators(results: Results, ward_id: str, series: pl.DataFrame) -> list[str]:
    """Indicators of the briefing, most relevant first: named in the "why", then the open ward
    alert's contributing ones, then this week's, then the strongest CUSUM."""
    present = set(series["indicator"].unique().to_list()) if series.height else set()
    chosen = why_indicators(results.ward_explanation(ward_id), [])
    wa = results.ward_alerts(ward_id).filter(pl.col("scope") == "ward")
    if wa.height:
        open_ = wa.filter(pl.col("closed").is_null())
        chosen += split_list((open_ if open_.height else wa)["contributing"][0])
    chosen += split_list(results.ward_row(ward_id).get("indicators"))
    if series.height and "cusum_up" in series.columns:
        last = series["period"].max()
        strongest = (
            series.filter(pl.col("period") == last)
            .with_columns(
                pl.max_horizontal(pl.col("cusum_up").fill_nan(0), pl.col("cusum_down").fill_nan(0))
                .fill_null(0)
                .alias("_s")
            )
            .sort("_s", descending=True)
        )
        chosen += strongest["indicator"].to_list()
    out: list[str] = []
    for key in chosen:
        if key in present and key not in out:
            out.append(key)
    return out


def _changes(
    results: Results,
    ward_id: str,
    since: dt.date,
    series: pl.DataFrame,
    n_new_notes: int,
    fitted: dict[str, IndicatorChart] | None = None,
) -> list[str]:
    out: list[str] = []
    ws = results.ward_status.filter(pl.col("ward_id") == ward_id)
    before = ws.filter(pl.col("period") <= since)
    now = ws.tail(1)
    if now.height:
        lvl_now = now["level"][0]
        if before.height:
            lvl_then = before["level"][-1]
            if lvl_then != lvl_now:
                out.append(
                    f"Level changed from {level_word(lvl_then).lower()} to {level_word(lvl_now).lower()}."
                )
            else:
                out.append(f"Level unchanged ({level_word(lvl_now).lower()}).")
            d = float(now["score"][0] or 0) - float(before["score"][-1] or 0)
            if abs(d) >= 0.5:
                out.append(f"The combined evidence has {'grown' if d > 0 else 'weakened'} since then.")
    new_alerts = results.ward_alerts(ward_id).filter(pl.col("opened") > since).sort("scope", descending=True)
    for a in new_alerts.iter_rows(named=True):  # ward alerts before indicator alerts
        what = indicator_label(a["indicator"]) if a["scope"] == "indicator" else "the ward as a whole"
        out.append(f"New {level_word(a['level']).lower()} alert opened {uk_date(a['opened'])}: {what}.")
    concern = []
    for key, fc in (fitted or {}).items():  # on the charts shown (the chart that fits each series)
        pts = fc.frame.filter((pl.col("period") > since) & (pl.col("point_type") == "special_cause_concern"))
        if pts.height:
            concern.append((pts.height, key, fc, cast(dt.date, pts["period"].min())))
    for n, key, fc, first in sorted(concern, key=lambda c: -c[0])[:3]:
        unit = {"xmr": "week" if fc.cadence == "weekly" else "month", "xmr_month": "month", "t": "gap"}.get(
            fc.kind, "point"
        )
        out.append(
            f"{indicator_label(key)}: {n} {unit}{'s' if n != 1 else ''} of concern on its chart since "
            f"{uk_date(first)}."
        )
    events = results.events.filter((pl.col("ward_id") == ward_id) & (pl.col("date") > since))
    for e in events.iter_rows(named=True):
        kind = EVENT_WORDS.get(str(e["kind"]), str(e["kind"]).replace("_", " "))
        out.append(f"{kind} on {uk_date(e['date'])}" + (f": {e['note']}" if e["note"] else "."))
    if n_new_notes:
        out.append(f"{n_new_notes} triage note{'s' if n_new_notes != 1 else ''} added (below).")
    return out


EVENT_WORDS = {
    "manager_change": "New ward manager",
    "reconfiguration": "Ward reconfigured",
    "rebase": "New baseline",
    "note": "Note",
}


def _questions(indicators: list[str], k: int) -> list[str]:
    """Questions about the indicators of the "why": the first question of each, then the second..."""
    per = [list(ind.questions) for key in indicators if (ind := indicator(key)) is not None]
    out: list[str] = []
    for round_ in range(max((len(q) for q in per), default=0)):
        for qs in per:
            if round_ < len(qs) and qs[round_] not in out:
                out.append(qs[round_])
    return out[:k]


def _clip(text: str, n: int) -> str:
    """``text`` cut at a word boundary to at most ``n`` characters, with an ellipsis when cut."""
    text = " ".join(str(text).split())
    if len(text) <= n:
        return text
    cut = text[: n - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


def _alert_label(row: dict) -> str:
    if row["scope"] == "indicator":
        return f"{indicator_label(row['indicator'])} alert"
    return "Ward alert"


def _triage(results: Results, ward_id: str, store: object | None, s: BriefingSettings, since: dt.date):
    """(triage lines, notes shown, notes not shown, new notes since) from the store."""
    lines: list[str] = []
    notes: list[tuple[str, BriefingNote]] = []
    if store is None:
        return lines, [], 0, 0
    alerts = results.ward_alerts(ward_id).sort(
        pl.col("scope") != "ward",
        pl.col("closed").is_not_null(),
        pl.col("opened"),
        descending=[False, False, True],
    )  # the ward alert first, then open indicator alerts, newest first
    for row in alerts.iter_rows(named=True):
        try:
            detail = store.get(row["alert_id"])  # type: ignore[attr-defined]
        except UnknownAlertError:  # an alert not (yet) in the store has no notes
            continue
        a = detail.alert
        status = TRIAGE_STATUS_WORDS.get(a.status, a.status)
        owner = a.assignee or "nobody yet"
        if row["closed"] is None or detail.notes:
            n = len(detail.notes)
            lines.append(
                f"{_alert_label(row)} ({level_word(row['level']).lower()}, opened {uk_date(row['opened'])}): "
                f"{status}; owner {owner}; {n} note{'s' if n != 1 else ''}."
            )
        about = _alert_label(row)
        notes.extend(
            (n.created_at, BriefingNote(uk_local_time(n.created_at), n.author, n.text, about, status, owner))
            for n in detail.notes
        )
    notes.sort(key=lambda n: n[0], reverse=True)
    n_new = sum(1 for when, _ in notes if when[:10] > since.isoformat())
    shown = [
        BriefingNote(n.when, n.author, _clip(n.text, s.note_chars), n.about, n.status, n.owner)
        for _, n in notes[: s.max_notes]
    ]
    return lines[:3], shown, max(len(notes) - s.max_notes, 0), n_new


def build_briefing(
    results: Results,
    ward_id: str,
    *,
    last_visit: dt.date | None = None,
    store: object | None = None,
    settings: BriefingSettings | None = None,
    series: pl.DataFrame | None = None,
) -> WardBriefing:
    """Collect one ward's briefing content from the results (and the triage store's notes).

    Parameters
    ----------
    last_visit : date, optional
        Changes are listed since this date; default ``as_of - 91 days``.
    store : TriageStore, optional
        Source of triage states and notes on the ward's alerts.
    series : DataFrame, optional
        The ward's ``series.parquet`` rows when already loaded (otherwise read here).

    Raises
    ------
    KeyError
        The ward is not in the results.
    """
    s = settings or BriefingSettings()
    row = results.ward_row(ward_id)
    if not row:
        raise KeyError(f"ward {ward_id!r} is not in the results")
    series = ward_series(results, ward_id) if series is None else series
    as_of = results.as_of
    since = last_visit or ((as_of - dt.timedelta(days=s.default_lookback_days)) if as_of else dt.date.today())
    level = str(row.get("level") or "none")
    doms = [domain_label(d).lower() for d in split_list(row.get("domains"))]
    weeks = ((as_of - row["since"]).days // 7 + 1) if (as_of and row.get("since")) else None
    if level == "none":
        status = "No concern: " + LEVEL_MEANING["none"] + "."
    else:
        status = (
            f"since the week of {uk_date(row.get('since'))}"
            + (f" ({weeks} week{'s' if weeks != 1 else ''})" if weeks else "")
            + f": {LEVEL_MEANING.get(level, '')}"
            + (f". Evidence in {_and(doms)}." if doms else ".")
        )
    own_explanation = results.ward_explanation(ward_id)
    # provider-wide changes the ward shares: "this ward's rise in ... is shared by 9 of 11 wards"
    explanation = " ".join((own_explanation, *ward_provider_sentences(results, ward_id))).strip()
    keys = _ward_indicators(results, ward_id, series)
    why = why_indicators(own_explanation, keys[:3])
    fitted = ward_charts(results, ward_id, series)
    charts: list[BriefingChart] = []
    for key in [k for k in keys if k in fitted][: s.max_charts]:
        fc = fitted[key]
        weeks_shown = s.chart_weeks if (fc.kind == "xmr" and fc.cadence == "weekly") else 2 * s.chart_weeks
        window = (as_of - dt.timedelta(weeks=weeks_shown)) if as_of else None
        ch, summ = mdc_chart(series, key, compact=True, fitted=fc, window=window)
        charts.append(BriefingChart(indicator_label(key), svg_of(ch, height=70), summ, fc.kind))
    triage, notes, more, n_new = _triage(results, ward_id, store, s, since)
    return WardBriefing(
        ward_id=ward_id,
        ward_name=str(row.get("ward_name") or ward_id),
        provider=str(row.get("provider") or ""),
        ward_type_label=ward_type_label(row.get("ward_type")),
        level=level if level in LEVEL_MEANING else "none",
        level_word=level_word(level),
        status_text=status,
        explanation=explanation,
        as_of_text=f"to the week of {uk_date(as_of)}" if as_of else "",
        since_text=("the last visit on " + uk_date(since))
        if last_visit
        else f"{uk_date(since)} ({s.default_lookback_days // 7} weeks before the latest data)",
        charts=tuple(charts),
        changes=tuple(_changes(results, ward_id, since, series, n_new, fitted)[: s.max_changes]),
        questions=tuple(_questions(why, s.max_questions) or _questions(keys, s.max_questions)),
        notes=tuple(notes),
        triage=tuple(triage),
        notes_more=more,
        why_indicators=tuple(why),
    )


def _and(items: list[str]) -> str:
    """ "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


#: How a briefing that does not fit on one page is shortened, one step at a time (cumulative):
#: (notes kept, characters per note, triage lines, changes, questions, charts, characters of the "why").
SHORTEN_STEPS: tuple[tuple[int, int, int, int, int, int, int], ...] = (
    (3, 160, 3, 5, 5, 3, 0),
    (2, 160, 3, 5, 5, 3, 0),
    (2, 100, 2, 4, 5, 3, 0),
    (1, 100, 1, 4, 4, 3, 0),
    (1, 100, 1, 3, 4, 3, 0),
    (1, 100, 1, 3, 4, 2, 0),
    (0, 100, 1, 3, 3, 2, 0),
    (0, 100, 1, 2, 3, 1, 0),
    (0, 100, 1, 2, 3, 1, 900),
    (0, 100, 1, 2, 3, 1, 600),
    (0, 100, 0, 2, 2, 0, 400),
)


def shorter(b: WardBriefing, step: int) -> WardBriefing:
    """A shorter version of a briefing that did not fit on one page (``step`` = 1, 2, ...).

    Notes go first (fewer and shorter; the rest are counted as "more in the inbox"), then triage
    lines, changes and questions, then charts, and last the explanation is cut (:data:`SHORTEN_STEPS`).
    """
    n_notes, chars, n_triage, n_changes, n_questions, n_charts, why_chars = SHORTEN_STEPS[
        min(step, len(SHORTEN_STEPS)) - 1
    ]
    keep = min(len(b.notes), n_notes)
    notes = tuple(replace(n, text=_clip(n.text, chars)) for n in b.notes[:keep])
    return replace(
        b,
        notes=notes,
        notes_more=b.notes_more + len(b.notes) - keep,
        triage=b.triage[:n_triage],
        changes=b.changes[:n_changes],
        questions=b.questions[:n_questions],
        charts=b.charts[:n_charts],
        explanation=_clip(b.explanation, why_chars) if why_chars else b.explanation,
    )


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    briefings: list[WardBriefing],
    *,
    generated: dt.datetime | None = None,
    notice: str = "",
    clip: bool = True,
) -> str:
    """The briefing document (one section and printed page per ward) as HTML, user text escaped.

    ``clip``: each ward's section is one page high and clips what does not fit (False to measure).
    """
    when = uk_local_time(generated or dt.datetime.now(dt.UTC))
    font = ", ".join(f'"{f}"' if " " in f else f for f in FONT_STACK.split(", "))
    return (
        _env()
        .get_template("briefing.html.j2")
        .render(briefings=briefings, generated=when, font_stack=Markup(font), notice=notice, clip=clip)
    )


def weasyprint_available() -> tuple[bool, str]:
    """Whether WeasyPrint imports (it needs Pango); the reason when it does not."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        return (
            False,
            f"PDF output is unavailable ({exc.__class__.__name__}: {exc}); use the HTML file and print it.",
        )
    return True, ""


def _document(html: str):
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render()


def pages_per_ward(document: object, n_wards: int) -> list[int]:
    """Printed pages of each ward section of a rendered WeasyPrint document (anchors ``ward-<i>``)."""
    starts: list[int] = []
    for i in range(n_wards):
        page = next((p for p, pg in enumerate(document.pages) if f"ward-{i}" in pg.anchors), None)  # type: ignore[attr-defined]
        starts.append(len(document.pages) if page is None else page)  # type: ignore[attr-defined]
    ends = [*starts[1:], len(document.pages)]  # type: ignore[attr-defined]
    return [max(e - a, 1) for a, e in zip(starts, ends, strict=True)]


def render_pdf(html: str) -> bytes | None:
    """PDF bytes of the briefing HTML with WeasyPrint (A4 via ``@page``); ``None`` when unavailable."""
    ok, _why = weasyprint_available()
    if not ok:
        return None
    return _document(html).write_pdf()


def fit_to_pages(
    briefings: list[WardBriefing],
    *,
    generated: dt.datetime | None = None,
    max_steps: int = len(SHORTEN_STEPS),
) -> tuple[list[WardBriefing], str, object]:
    """Shorten the wards that spill onto a second page until each fits on one page.

    The whole document is measured once (without the one-page clip); each ward that spills is then
    measured on its own, a step shorter at a time (:func:`shorter`). Returns the (possibly shortened)
    briefings, the final HTML and its rendered document. The template also clips each ward's section
    to one page, so even content this cannot shorten never spills onto a second page.
    """
    current = list(briefings)
    doc = _document(render_html(current, generated=generated, clip=False))
    over = [i for i, n in enumerate(pages_per_ward(doc, len(current))) if n > 1]
    for i in over:
        for step in range(1, max_steps + 1):
            current[i] = shorter(briefings[i], step)
            alone = _document(render_html([current[i]], generated=generated, clip=False))
            if len(alone.pages) <= 1:
                break
    html = render_html(current, generated=generated)
    return current, html, _document(html)


def render_briefing(
    results: Results,
    ward_ids: list[str],
    *,
    last_visit: dt.date | None = None,
    store: object | None = None,
    settings: BriefingSettings | None = None,
    pdf: bool = True,
) -> BriefingOutput:
    """Build, render and (when possible) print the briefing: exactly one A4 page per ward."""
    briefings = [
        build_briefing(results, w, last_visit=last_visit, store=store, settings=settings) for w in ward_ids
    ]
    ok, why = weasyprint_available()
    if not (pdf and ok):
        html = render_html(briefings, notice="" if ok or not pdf else why)
        return BriefingOutput(html=html, pdf=None, note="" if ok else why)
    generated = dt.datetime.now(dt.UTC)
    _fitted, html, doc = fit_to_pages(briefings, generated=generated)
    return BriefingOutput(html=html, pdf=doc.write_pdf(), pages=len(doc.pages))  # type: ignore[attr-defined]
