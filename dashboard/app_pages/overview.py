"""Trust overview: wards ranked by level and score, domain heatmap, alert counts, score history."""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard.app_context import context, md_escape
from dashboard.components.charts import as_of_label, heatmap, small_multiples
from dashboard.services.formatting import LEVEL_WORDS, domain_label, safe_csv, split_list
from dashboard.services.results import DOMAIN_KEYS

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
view = latest
if providers:
    view = view.filter(pl.col("provider").is_in(providers))
if types:
    view = view.filter(pl.col("ward_type").is_in(types))
ward_ids = view["ward_id"].to_list()

# ------------------------------------------------------------------ counts
counts = view.group_by("level").len()
n_level = dict(zip(counts["level"].to_list(), counts["len"].to_list(), strict=True))
open_n = new_n = None
if ctx.store is not None:
    alerts = ctx.store.alerts_frame()
    alerts = alerts.filter(pl.col("ward_id").is_in(ward_ids))
    new_n = int((alerts["status"] == "new").sum())
    open_n = int((alerts["status"] != "closed").sum())
m = st.columns(5)
m[0].metric("Urgent wards", n_level.get("urgent", 0))
m[1].metric("Concern wards", n_level.get("concern", 0))
m[2].metric("Watch wards", n_level.get("watch", 0))
m[3].metric("New alerts", "–" if new_n is None else new_n, help="Alerts nobody has acknowledged yet")
m[4].metric("Open alerts", "–" if open_n is None else open_n, help="Alerts not closed by triage")
st.caption(
    f"{view.height} wards shown; {n_level.get('urgent', 0)} urgent, {n_level.get('concern', 0)} at concern, "
    f"{n_level.get('watch', 0)} on watch"
    + ("" if new_n is None else f"; {new_n} new and {open_n} open alerts in the triage inbox")
    + "."
)

# ------------------------------------------------------------------ ranked table
st.subheader("Wards ranked")
table = view.select(
    "rank",
    pl.col("ward_name").alias("Ward"),
    pl.col("provider").alias("Provider"),
    pl.col("ward_type").alias("Type"),
    pl.col("level").replace_strict(LEVEL_WORDS, default="No concern").alias("Level"),
    pl.col("score").round(1).alias("Score"),
    pl.col("since").alias("Since"),
    pl.col("domains")
    .map_elements(lambda v: ", ".join(domain_label(d) for d in split_list(v)), return_dtype=pl.String)
    .alias("Domains with evidence"),
    "ward_id",
)
event = st.dataframe(
    table,
    key="ranked",
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "rank": st.column_config.NumberColumn("Rank", width="small"),
        "Score": st.column_config.NumberColumn("Score (nats)", format="%.1f", help="Combined evidence"),
        "Since": st.column_config.DateColumn("At this level since", format="DD/MM/YYYY"),
        "ward_id": st.column_config.TextColumn("Ward id"),
    },
    height=min(38 + 35 * view.height, 420),
)
if event.selection.rows:
    chosen = table["ward_id"][event.selection.rows[0]]
    st.switch_page("app_pages/ward.py", query_params={"ward": chosen})
if view.height:
    top = view.head(3)
    st.caption(
        "Top of the list: "
        + "; ".join(
            f"{r['rank']}. {md_escape(r['ward_name'])} ({LEVEL_WORDS.get(r['level'], r['level'])}, {r['score']:.1f} nats)"
            for r in top.iter_rows(named=True)
        )
        + ". Select a row to open the ward."
    )
st.download_button(
    "Download ranked wards (CSV)",
    data=safe_csv(table.drop("ward_id")),
    file_name=f"wardwatch-ranked-{dt.date.today():%Y%m%d}.csv",
    mime="text/csv",
    on_click="ignore",
)

# ------------------------------------------------------------------ heatmap
st.subheader("Latest evidence by domain")
domains = [d for d in DOMAIN_KEYS if f"score_{d}" in view.columns]
hm, hm_text = heatmap(view.head(s.heatmap_wards), domains)
st.altair_chart(hm, key="heatmap")
st.caption(md_escape(hm_text))

# ------------------------------------------------------------------ small multiples
st.subheader("Score over the last year")
top_ids = view.head(s.small_multiples)
if res.as_of is not None and top_ids.height:
    start = res.as_of - dt.timedelta(weeks=s.history_weeks)
    hist = (
        res.ward_status.filter(
            pl.col("ward_id").is_in(top_ids["ward_id"].to_list()) & (pl.col("period") > start)
        )
        .join(top_ids.select("ward_id", "rank", "ward_name"), on="ward_id")
        .with_columns((pl.col("rank").cast(pl.String) + ". " + pl.col("ward_name")).alias("ward"))
        .sort("rank", "period")
        .select("ward", "period", "score", "level")
    )
    sm, sm_text = small_multiples(hist)
    st.altair_chart(sm, key="small_multiples")
    st.caption(
        md_escape(sm_text) + f" Showing the {top_ids.height} highest-ranked wards under the current filters."
    )
