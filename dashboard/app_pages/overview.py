"""Trust overview: wards ranked by level and score, domain heatmap, alert counts, score history.

Light first render: the ranking, its filters and counts come from a per-results cache
(``services.overview``); the heatmap and the small multiples sit in tabs that run only when opened
(``st.tabs(on_change="rerun")``), so opening the page at national scale ships one table and no
chart until asked.
"""

import datetime as dt

import streamlit as st

from dashboard.app_context import context, md_escape
from dashboard.components.charts import as_of_label, heatmap, small_multiples
from dashboard.components.triage_badges import provider_section
from dashboard.components.truth import render_truth_overview
from dashboard.services.formatting import LEVEL_WORDS
from dashboard.services.overview import alert_counts, cached_overview
from dashboard.services.ward_triage import ward_triage, with_triage_columns

ctx = context()
st.title("Trust overview")
if ctx.results is None:
    st.error(ctx.error)
    st.stop()
res = ctx.results
s = ctx.settings
st.caption(f"Closed-culture early warning, {as_of_label(res.as_of)}. Wards ranked by level, then score.")

latest = res.latest
c1, c2 = st.columns(2)
providers = c1.multiselect("Provider", sorted(latest["provider"].unique().to_list()), key="f_provider")
types = c2.multiselect("Ward type", sorted(latest["ward_type"].unique().to_list()), key="f_type")
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
st.caption(
    f"{view.height:,} wards shown; {n_level.get('urgent', 0)} urgent, {n_level.get('concern', 0)} at concern, "
    f"{n_level.get('watch', 0)} on watch"
    + ("" if new_n is None else f"; {new_n} new and {open_n} open alerts in the triage inbox")
    + "."
)
if view.height:
    st.caption(
        "Top of the list: "
        + "; ".join(
            f"{r['rank']}. {md_escape(r['ward_name'])} ({LEVEL_WORDS.get(r['level'], r['level'])}, {r['score']:.1f} nats)"
            for r in view.head(3).iter_rows(named=True)
        )
        + "."
    )

TABS = ("Wards ranked", "Evidence by domain", "Score over the last year")
t_rank, t_heat, t_hist = st.tabs(list(TABS), key="ov_tab", on_change="rerun")

# ------------------------------------------------------------------ ranked table
if t_rank.open:
    with t_rank:
        ranked = ov.table if ctx.store is None else with_triage_columns(ov.table, ward_triage(ctx.store))
        event = st.dataframe(
            ranked,
            key="ranked",
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            column_config={
                "rank": st.column_config.NumberColumn("Rank", width="small"),
                "Score": st.column_config.NumberColumn(
                    "Score (nats)", format="%.1f", help="Combined evidence"
                ),
                "Since": st.column_config.DateColumn("At this level since", format="DD/MM/YYYY"),
                "ward_id": st.column_config.TextColumn("Ward id"),
            },
            height=min(38 + 35 * view.height, 420),
        )
        if event.selection.rows:
            chosen = ranked["ward_id"][event.selection.rows[0]]
            st.switch_page("app_pages/ward.py", query_params={"ward": chosen})
        st.caption("Select a row to open the ward.")
        st.download_button(
            "Download ranked wards (CSV)",
            data=ov.csv,
            file_name=f"wardwatch-ranked-{dt.date.today():%Y%m%d}.csv",
            mime="text/csv",
            on_click="ignore",
        )

# ------------------------------------------------------------------ heatmap
if t_heat.open:
    with t_heat:
        hm, hm_text = heatmap(ov.heat, ov.domains)
        st.altair_chart(hm, key="heatmap")
        st.caption(md_escape(hm_text))

# ------------------------------------------------------------------ small multiples
if t_hist.open:
    with t_hist:
        if ov.history.is_empty():
            st.info("No score history for the wards shown.")
        else:
            sm, sm_text = small_multiples(ov.history)
            st.altair_chart(sm, key="small_multiples")
            n_top = min(s.small_multiples, view.height)
            st.caption(
                md_escape(sm_text) + f" Showing the {n_top} highest-ranked wards under the current filters."
            )

# ------------------------------------------------------------------ known truth (synthetic trusts)
render_truth_overview(ctx)
provider_section(res, ctx.store, providers)  # provider-wide changes with their ward share (issue 22)
