"""Trust overview, board first: wards to visit, an indicator summary, then the ranking and analysts' figures.

Reads top-down as a board member would: how many wards at each level; the wards to visit (level
badge, one-line reason, change since last month, current evidence, buttons to open and to brief);
an integrated-performance-report table of one ward's indicators; the whole ranking (select a row to
open that ward); and, folded away, the figures for analysts (scores in nats, heatmap, history).

Light first render: the ranking, lists and counts come from a per-results cache
(``services.overview``); the charts sit in tabs and expanders that run only when opened.
Other pages' hooks (e.g. a triage badge per ward to visit) plug in at ``visit_card_extras``.
"""

import datetime as dt
import html

import polars as pl
import streamlit as st

from dashboard.app_context import context, md_escape
from dashboard.components.board import BAR_COLOUR, level_badge, strength_bar
from dashboard.components.board_charts import domain_heatmap, strength_multiples
from dashboard.components.charts import as_of_label
from dashboard.components.tables import indicator_summary_table
from dashboard.components.triage_badges import provider_section
from dashboard.components.truth import render_truth_overview
from dashboard.services.completeness import completeness_listing
from dashboard.services.formatting import long_date, ward_type_label
from dashboard.services.overview import (
    alert_counts,
    cached_overview,
    indicator_summary,
)
from dashboard.services.results import cached_ward_series
from dashboard.services.ward_triage import ward_triage, with_triage_columns
from dashboard.services.ward_view import cached_ward_fitted

WARD_PAGE = "app_pages/ward.py"
#: ward-to-visit cards drawn at most (a national view lists hundreds; the ranking has them all).
VISIT_CARDS = 25
BRIEF_PAGE = "app_pages/briefing.py"

ctx = context()
st.title("Trust overview")
if ctx.results is None:
    st.error(ctx.error)
    st.stop()
res = ctx.results
s = ctx.settings
st.caption(f"Closed-culture early warning, {as_of_label(res.as_of)}. Wards to visit first, then every ward.")

latest = res.latest
c1, c2 = st.columns(2)
providers = c1.multiselect("Provider", sorted(latest["provider"].unique().to_list()), key="f_provider")
types = c2.multiselect(
    "Ward type", sorted(latest["ward_type"].unique().to_list()), key="f_type", format_func=ward_type_label
)
ov = cached_overview(res, providers, types, s.heatmap_wards, s.small_multiples, s.history_weeks)
view, n_level = ov.view, ov.level_counts

# ------------------------------------------------------------------ counts
open_n = new_n = None
if ctx.store is not None:
    new_n, open_n = alert_counts(ctx.store, ov.ward_ids if ov.filtered else None)
m = st.columns(5)
m[0].metric("Urgent wards", n_level.get("urgent", 0))
m[1].metric("Concern wards", n_level.get("concern", 0))
m[2].metric("Watch wards", n_level.get("watch", 0))
m[3].metric("New alerts", "–" if new_n is None else new_n, help="Alerts nobody has acknowledged yet")
m[4].metric("Open alerts", "–" if open_n is None else open_n, help="Alerts not closed by triage")


def open_ward(ward_id: str) -> None:
    """Go to the ward page of ``ward_id`` (the URL carries the id)."""
    st.switch_page(WARD_PAGE, query_params={"ward": ward_id})


def brief(ward_id: str) -> None:
    """Go to the briefing page with ``ward_id`` chosen."""
    st.session_state["brief_wards"] = [ward_id]
    st.switch_page(BRIEF_PAGE, query_params={"ward": ward_id})


def visit_card_extras(ward_id: str) -> None:
    """Hook for other pages' additions to a ward-to-visit card (triage status, known truth)."""


# ------------------------------------------------------------------ wards to visit
st.subheader("Wards to visit")
visit = ov.visit
can_brief = ctx.user.can("brief")
if visit.is_empty():
    st.success("No ward is at concern or urgent: no visit is prompted by the data this week.")
else:
    st.caption(
        f"{visit.height} ward(s) at urgent or concern, most urgent first. Current evidence is what the "
        "last 13 weeks added; one date per ward: when the pattern probably began."
    )
for r in visit.head(VISIT_CARDS).iter_rows(named=True):
    w = r["ward_id"]
    with st.container(border=True, key=f"visit_{w}"):
        left, right = st.columns([5, 1], vertical_alignment="center")
        with left:
            where = " · ".join(html.escape(str(x)) for x in (w, r["ward_type_label"], r["provider"]) if x)
            st.html(
                f'<div class="ww-visit" data-ward="{html.escape(w)}" style="display:flex;gap:10px;'
                f'align-items:center;flex-wrap:wrap">{level_badge(r["level"], large=True)}'
                f'<span class="ww-ward-name" style="font-size:1.15rem;font-weight:700">'
                f'{html.escape(r["ward_name"])}</span><span style="color:#425563">{where}</span>'
                f'<span style="margin-left:auto">{strength_bar(r["evidence_strength"])}</span></div>'
            )
            onset = f" Building since around {long_date(r['onset'])}." if r["onset"] else ""
            st.markdown(
                f"**Why:** {md_escape(r['reason'] + onset)}  \n**Since last month:** {md_escape(r['change'])}"
            )
            visit_card_extras(w)
        with right:
            if st.button("Open ward", key=f"open_{w}", use_container_width=True):
                open_ward(w)
            if can_brief and st.button("Brief", key=f"brief_{w}", type="primary", use_container_width=True):
                brief(w)

if visit.height > VISIT_CARDS:
    st.markdown(
        f"**And {visit.height - VISIT_CARDS:,} more ward(s) at urgent or concern**: the first "
        f"{VISIT_CARDS} are shown; every ward is in the ranking below, most urgent first."
    )
if ov.watch.height:
    on_watch = st.expander(
        f"On watch: {ov.watch.height} ward(s) with one domain or one indicator alert",
        key="watch_open",
        on_change="rerun",
    )
    if on_watch.open:  # drawn only when opened
        with on_watch:
            st.dataframe(
                ov.watch.select(pl.col("ward_name").alias("Ward"), pl.col("reason").alias("Why"), "ward_id"),
                hide_index=True,
                column_config={"ward_id": st.column_config.TextColumn("Ward id")},
                key="watch_table",
            )

# ------------------------------------------------------------------ indicator summary (IPR style)
st.subheader("Indicator summary")
choices = visit["ward_id"].to_list() or ov.ward_ids[:1]
if choices:
    names = dict(zip(view["ward_id"].to_list(), view["ward_name"].to_list(), strict=True))
    pick = st.selectbox("Ward", choices, key="ipr_ward", format_func=lambda w: f"{names.get(w, w)} ({w})")
    row = res.ward_row(pick)
    contributing = [k for k in (row.get("indicators") or "").split(";") if k]
    summary = indicator_summary(cached_ward_series(res, pick), contributing, cached_ward_fitted(res, pick))
    indicator_summary_table(summary, key="ipr_table", max_height=560)
    st.caption(
        "Making Data Count icons: the variation icon reads the latest points of each indicator's chart "
        "(grey: no significant change; orange: special cause of concern; blue: improvement; purple: "
        "neither); the assurance icon compares a target with the process limits and is shown only "
        "where a target is set."
    )

# ------------------------------------------------------------------ every ward
st.subheader("All wards")
st.caption(
    f"{view.height:,} wards shown; {n_level.get('urgent', 0)} urgent, {n_level.get('concern', 0)} at concern, "
    f"{n_level.get('watch', 0)} on watch. Ranked by level (urgent, concern, watch), then current evidence. "
    "Select a row to open the ward."
)
ranked = ov.table if ctx.store is None else with_triage_columns(ov.table, ward_triage(ctx.store))
event = st.dataframe(
    ranked,
    key="ranked",
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "rank": st.column_config.NumberColumn("Rank", width="small"),
        "Current evidence": st.column_config.ProgressColumn(
            "Current evidence",
            min_value=0,
            max_value=100,
            format="%.0f",
            help="Evidence gained over the last 13 weeks on a 0-100 scale (50 = one urgent threshold)",
            color=BAR_COLOUR,  # a quantity, not Making Data Count's improvement blue
        ),
        "ward_id": st.column_config.TextColumn("Ward id"),
    },
    height=min(38 + 35 * view.height, 420),
)
if event.selection.rows:
    open_ward(ranked["ward_id"][event.selection.rows[0]])

# ------------------------------------------------------------------ for analysts
analysts = st.expander(
    "For analysts: technical figures, evidence by domain and history", key="analysts", on_change="rerun"
)
if analysts.open:
    with analysts:
        TABS = ("Scores", "Evidence by domain", "Evidence over the last year")
        t_rank, t_heat, t_hist = st.tabs(list(TABS), key="ov_tab", on_change="rerun")
        if t_rank.open:
            with t_rank:
                st.caption(
                    "Recent evidence: log-likelihood ratio (nats) the culture domains gained in the last 13 "
                    f"weeks; strength = recent / (recent + urgent threshold {res.urgent_threshold:g}). The "
                    "cumulative score is the sum of the domain CUSUMs and grows while a shift lasts."
                )
                st.dataframe(
                    ov.analyst_table,
                    hide_index=True,
                    key="analyst_table",
                    column_config={
                        "At this level since": st.column_config.DateColumn(format="DD/MM/YYYY"),
                        "ward_id": st.column_config.TextColumn("Ward id"),
                    },
                )
                st.download_button(
                    "Download the ranking with scores (CSV)",
                    data=ov.csv,
                    file_name=f"wardwatch-ranked-{dt.date.today():%Y%m%d}.csv",
                    mime="text/csv",
                    on_click="ignore",
                )
        if t_heat.open:
            with t_heat:
                hm, hm_text = domain_heatmap(ov.heat, ov.domains, res.concern_threshold)
                st.altair_chart(hm, key="heatmap")
                st.caption(md_escape(hm_text))
        if t_hist.open:
            with t_hist:
                if ov.history.is_empty():
                    st.info("No history for the wards shown.")
                else:
                    sm, sm_text = strength_multiples(ov.history)
                    st.altair_chart(sm, key="small_multiples")
                    n_top = min(s.small_multiples, view.height)
                    st.caption(
                        md_escape(sm_text) + f" The {n_top} highest-ranked wards under the current filters."
                    )

# ------------------------------------------------------------------ provider-wide changes
provider_section(res, ctx.store, providers)  # provider alerts with their ward share (issue 22)

# ------------------------------------------------------------------ data quality: incomplete reporting
incomplete = completeness_listing(res.results_dir, res.wards)
if incomplete.height:
    n_alerted = int((incomplete["Status"] == "Data silence alert").sum())
    quality = st.expander(
        f"Data quality: {incomplete.height} series reported incompletely ({n_alerted} alerted as data silence)",
        key="data_quality",
        on_change="rerun",
    )
    if quality.open:
        with quality:
            st.caption(
                "Every series whose exposure (bed days...) was reported in every period but whose figure "
                "was published in only some. Missing is not zero: a gap is listed here whether or not it "
                "is improbable enough to raise a data-silence alert; the last column says why."
            )
            st.dataframe(
                incomplete,
                hide_index=True,
                key="incomplete_reporting",
                column_config={"ward_id": st.column_config.TextColumn("Ward id")},
            )

# ------------------------------------------------------------------ known truth (synthetic trusts)
render_truth_overview(ctx)
