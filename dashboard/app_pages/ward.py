"""Ward detail, top-down: level and why, what to ask, the indicators behind the level with their
charts, an indicator summary, then the other indicators folded away by domain and the analysts' view.

The ward is chosen by id: ``/ward?ward=W0013`` opens that ward, and the URL always shows the id of
the ward on screen (the picker writes the id back, never its display label). Folded sections are
lazy (``on_change="rerun"``): their charts are built only when opened, so a load draws the charts
of the indicators behind the level only. Other pages' hooks plug in at ``ward_page_extras``.
"""

import html
from typing import cast

import polars as pl
import streamlit as st

from dashboard.app_context import context, md_escape
from dashboard.components.board import level_badge, level_callout, strength_bar
from dashboard.components.charts import cusum_chart, funnel_chart
from dashboard.components.icons import variation_icon
from dashboard.components.tables import indicator_summary_table
from dashboard.components.triage_badges import ward_triage_badge
from dashboard.components.truth import render_ward_truth
from dashboard.services.formatting import (
    LEVEL_WORDS,
    domain_label,
    event_words,
    indicator,
    indicator_label,
    long_date,
    split_list,
    uk_date,
    ward_type_label,
)
from dashboard.services.funnel import funnel
from dashboard.services.overview import (
    change_line,
    indicator_summary,
    month_ago,
)
from dashboard.services.results import cached_peer_totals, cached_ward_series
from dashboard.services.ward_view import (
    cached_indicator_charts,
    cached_strength_chart,
    cached_ward_fitted,
    lead_indicators,
)

ctx = context()
st.title("Ward detail")
if ctx.results is None:
    st.error(ctx.error)
    st.stop()
res, s = ctx.results, ctx.settings
names = dict(zip(res.latest["ward_id"].to_list(), res.latest["ward_name"].to_list(), strict=True))
ward_ids = res.latest["ward_id"].to_list()  # rank order
if not ward_ids:
    st.info("No wards in the results.")
    st.stop()

# ------------------------------------------------------------------ which ward: by id, in the URL
wanted = st.query_params.get("ward")
if wanted not in names:
    if wanted:
        st.warning(f"No ward with id {md_escape(wanted)} in these results; showing the highest-ranked ward.")
    wanted = ward_ids[0]
if st.session_state.get("ward_pick") != wanted:
    st.session_state["ward_pick"] = wanted


def _picked() -> None:
    st.query_params["ward"] = st.session_state["ward_pick"]


ward_id = st.selectbox(
    "Ward",
    ward_ids,
    key="ward_pick",
    format_func=lambda w: f"{names.get(w, w)} ({w})",
    on_change=_picked,
)
st.query_params["ward"] = ward_id


def ward_page_extras(ward_id: str) -> None:
    """Hook for other pages' additions under the ward's heading (triage status, known truth)."""


row = res.ward_row(ward_id)
series = cached_ward_series(res, ward_id)
level = row.get("level") or "none"
alert = res.ward_alert(ward_id)

# ------------------------------------------------------------------ heading: level, where, evidence
st.header(row.get("ward_name") or ward_id, anchor=False)
where = " · ".join(
    html.escape(str(x))
    for x in (
        ward_id,
        ward_type_label(row.get("ward_type")),
        row.get("provider"),
        f"rank {row['rank']} of {res.latest.height}",
    )
    if x
)
st.html(
    f'<div class="ww-ward-head" data-ward="{html.escape(ward_id)}" style="display:flex;gap:12px;'
    f'align-items:center;flex-wrap:wrap">{level_badge(level, large=True)}'
    f'<span style="color:#425563">{where}</span>'
    f'<span style="margin-left:auto">Current evidence: {strength_bar(row.get("evidence_strength"))}</span></div>'
)
ward_page_extras(ward_id)
ward_triage_badge(ctx.store, ward_id, row.get("level"))  # triage status, owner, re-opened evidence

explanation = str(alert.get("explanation") or "")
if level in ("concern", "urgent") and explanation:
    st.html(level_callout(level, f"Why this ward is at {LEVEL_WORDS[level].lower()}", explanation))
elif explanation:
    st.html(level_callout(level, "Latest ward alert (now closed)", explanation))
else:
    doms = ", ".join(domain_label(d).lower() for d in split_list(row.get("domains"))) or "no domain"
    st.html(
        level_callout(
            level,
            LEVEL_WORDS.get(level, level),
            f"No ward alert: the combined evidence has not reached concern. Evidence this week in {doms}.",
        )
    )

then = month_ago(res).filter(pl.col("ward_id") == ward_id)
prev = then.row(0, named=True) if then.height else {}
new_inds = [k for k in split_list(row.get("indicators")) if k not in split_list(prev.get("indicators_then"))]
change = change_line(
    level,
    prev.get("level_then"),
    float(row.get("evidence_strength") or 0.0),
    prev.get("strength_then"),
    new_inds if prev else [],
)
questions = [q.strip() for q in str(alert.get("questions") or "").split("|") if q.strip()]
st.markdown(f"**Since last month:** {md_escape(change)}")
if questions and level in ("concern", "urgent"):
    st.markdown("**Questions to ask on a visit**\n" + "\n".join(f"- {md_escape(q)}" for q in questions))
strength = cached_strength_chart(res, ward_id)
st.vega_lite_chart(spec=strength.spec, key="ward_strength", width="stretch")
st.caption(md_escape(strength.summary))
render_ward_truth(ctx, ward_id)  # synthetic trusts only: injected episodes and their outcome

if series.is_empty():
    st.warning("No indicator series for this ward in series.parquet.")
    st.stop()

present = sorted(series["indicator"].unique().to_list())
lead, contrib = lead_indicators(row, alert, present)
events = res.events.filter(pl.col("ward_id") == ward_id)
last_types = (
    series.filter(pl.col("rate").is_not_null() & pl.col("rate").is_not_nan())
    .group_by("indicator")
    .agg(pl.col("point_type").sort_by("period").last())
)
last_type = dict(zip(last_types["indicator"].to_list(), last_types["point_type"].to_list(), strict=True))
fitted = cached_ward_fitted(res, ward_id)


def indicator_block(key: str, *, behind: bool, tag: str = "") -> None:
    """One indicator: heading, variation icon in words, its Making Data Count chart and its evidence."""
    ind = indicator(key)
    fc = fitted.get(key)
    icon = (
        fc.icon
        if fc is not None
        else variation_icon(last_type.get(key) or None, ind.direction if ind else "both")
    )
    with st.container(border=True, key=f"ind_{key}"):
        st.markdown(f"**{md_escape(indicator_label(key))}**" + (f" · {tag}" if tag else ""))
        note = icon.meaning + "."
        if behind and icon.key.startswith("improvement"):
            note += (
                " The alert disagrees: it weighs every week since the change began, the icon only the "
                "latest points."
            )
        st.html(
            f'<div style="display:flex;gap:8px;align-items:center">{icon.img_tag(28)}'
            f"<span>{html.escape(note)}</span></div>"
        )
        mdc, evidence = cached_indicator_charts(res, ward_id, key)
        c1, c2 = st.columns(2)
        with c1:
            st.vega_lite_chart(spec=mdc.spec, key=f"mdc_{key}", width="stretch")
            st.caption(md_escape(mdc.summary))
        with c2:
            st.vega_lite_chart(spec=evidence.spec, key=f"evidence_{key}", width="stretch")
            st.caption(md_escape(evidence.summary))


# ------------------------------------------------------------------ indicators behind the level
st.subheader("Indicators behind the current level")
if lead:
    st.caption(
        "Strongest first. Left: the Making Data Count chart (grey circles common cause; orange triangles "
        "special cause of concern; blue squares improvement; purple diamonds neither; dashed lines the "
        "process limits). Right: the evidence of a change building up week by week; it raises an alert "
        "when it crosses the red line."
    )
    for key in lead:
        indicator_block(key, behind=True, tag="behind the current level")
else:
    st.markdown("No indicator is contributing evidence this week.")

# ------------------------------------------------------------------ indicator summary
st.subheader("Indicator summary")
summary_table = indicator_summary(series, contrib, fitted)
indicator_summary_table(summary_table, key="ward_ipr", max_height=480)

# ------------------------------------------------------------------ the rest, folded by domain
others = [k for k in present if k not in lead]
by_domain: dict[str, list[str]] = {}
for key in others:
    ind = indicator(key)
    by_domain.setdefault(ind.domain if ind else "other", []).append(key)
if others:
    st.subheader("Other indicators")
    st.caption("Folded by domain; open one to draw its charts.")
for dom, keys in by_domain.items():
    n_contrib = sum(k in contrib for k in keys)
    more = f", {n_contrib} also contributing" if n_contrib else ""
    box = st.expander(
        f"{domain_label(dom)} ({len(keys)} indicators{more})", key=f"dom_{dom}", on_change="rerun"
    )
    if box.open:
        with box:
            for key in sorted(keys, key=lambda k: (k not in contrib, indicator_label(k))):
                indicator_block(key, behind=key in contrib, tag="also contributing" if key in contrib else "")

# ------------------------------------------------------------------ events in words
if events.height:
    with st.expander(f"Ward events ({events.height})", key="ward_events"):
        st.dataframe(
            events.select(
                pl.col("date").alias("Date"),
                pl.col("kind").map_elements(event_words, return_dtype=pl.String).alias("Event"),
                pl.col("note").alias("Note"),
            ),
            hide_index=True,
            column_config={"Date": st.column_config.DateColumn(format="DD/MM/YYYY")},
        )

# ------------------------------------------------------------------ for analysts
analysts = st.expander(
    "For analysts: statistics, CUSUMs and peer comparison", key="ward_analysts", on_change="rerun"
)
if analysts.open:
    with analysts:
        opened = f"opened {uk_date(alert.get('opened'))}" if alert else "no ward alert"
        st.markdown(
            f"Cumulative score {float(row.get('score') or 0):.1f} nats; recent evidence "
            f"{float(row.get('recent_evidence') or 0):.2f} nats over 13 weeks (strength "
            f"{float(row.get('evidence_strength') or 0):.3f}); at this level since {uk_date(row.get('since'))}; "
            f"ward alert {md_escape(alert.get('alert_id') or '')} {opened}; onset estimate "
            f"{long_date(alert.get('onset_estimate')) or 'none'}."
        )
        order = contrib + [k for k in present if k not in contrib]
        # options are the ward's indicators, never empty: the choice is never None
        key = cast(str, st.selectbox("Indicator", order, key="cusum_ind", format_func=indicator_label))
        chart, summary = cusum_chart(series, key, events)
        st.altair_chart(chart, key="cusum_chart")
        st.caption(md_escape(summary))
        peers = res.latest.filter(pl.col("ward_type") == row.get("ward_type"))["ward_id"].to_list()
        totals = cached_peer_totals(res, key, tuple(sorted(peers)), s.funnel_weeks)
        if totals.height < 3:
            st.info(
                f"Only {totals.height} ward(s) of this type have data for this indicator: no funnel plot."
            )
        else:
            ind = indicator(key)
            result = funnel(
                totals["numerator"].to_numpy(),
                totals["exposure"].to_numpy(),
                scale="proportion" if ind and ind.is_proportion else "rate",
            )
            chart, summary = funnel_chart(totals, result, key, ward_id, names)
            st.altair_chart(chart, key="funnel_chart")
            st.caption(
                md_escape(summary)
                + f" Pooled over the last {s.funnel_weeks} weeks; limits 95% (dashed) and 99.8% (solid), "
                "adjusted for overdispersion between wards (Spiegelhalter's additive random effects)."
            )
