"""Ward detail: every indicator's MDC chart with icons, CUSUM panel, explanation and peer funnel."""

import polars as pl
import streamlit as st

from dashboard.app_context import context, md_escape
from dashboard.components.charts import cusum_chart, funnel_chart, mdc_chart, score_history_chart, ward_charts
from dashboard.components.icons import variation_icon
from dashboard.components.triage_badges import ward_triage_badge
from dashboard.components.truth import render_ward_truth
from dashboard.services.briefing import WARD_TYPE_LABELS
from dashboard.services.formatting import (
    LEVEL_WORDS,
    domain_label,
    indicator,
    indicator_label,
    split_list,
    uk_date,
)
from dashboard.services.funnel import funnel
from dashboard.services.results import cached_peer_totals, cached_ward_series

ctx = context()
st.title("Ward detail")
if ctx.results is None:
    st.error(ctx.error)
    st.stop()
res, s = ctx.results, ctx.settings
names = dict(zip(res.latest["ward_id"].to_list(), res.latest["ward_name"].to_list(), strict=True))
ward_ids = res.latest["ward_id"].to_list()  # rank order
ward_id = st.selectbox(
    "Ward",
    ward_ids,
    key="ward",
    bind="query-params",
    format_func=lambda w: f"{names.get(w, w)} ({w})",
)
if ward_id is None:
    st.stop()
row = res.ward_row(ward_id)
series = cached_ward_series(res, ward_id)

st.header(md_escape(row.get("ward_name") or ward_id))
doms = ", ".join(domain_label(d) for d in split_list(row.get("domains"))) or "none"
st.markdown(
    f"**{LEVEL_WORDS.get(row['level'], row['level'])}** since week of {uk_date(row.get('since'))} · "
    f"score {float(row.get('score') or 0):.1f} nats · rank {row['rank']} of {res.latest.height} · "
    f"{md_escape(row.get('provider'))} · {WARD_TYPE_LABELS.get(row.get('ward_type'), md_escape(row.get('ward_type')))} · "
    f"domains with evidence: {doms}"
)
ward_triage_badge(ctx.store, ward_id, row.get("level"))  # triage status, owner, re-opened evidence
expl = res.ward_explanation(ward_id)
st.info(md_escape(expl) if expl else "No ward alert: the combined evidence has not reached concern.")

hist = res.ward_status.filter(pl.col("ward_id") == ward_id)
ch, text = score_history_chart(hist)
st.altair_chart(ch, key="ward_score")
st.caption(text)
render_ward_truth(ctx, ward_id)  # synthetic trusts only: injected episodes and their outcome

if series.is_empty():
    st.warning("No indicator series for this ward in series.parquet.")
    st.stop()

present = series["indicator"].unique().to_list()
contrib = split_list(row.get("indicators"))
order = sorted(present, key=lambda k: (k not in contrib, (indicator(k).domain if indicator(k) else "z"), k))
fitted = ward_charts(res, ward_id, series)  # the chart that fits each indicator (rare events too)

tab_charts, tab_cusum, tab_peers = st.tabs(["Indicator charts", "CUSUM and events", "Peer comparison"])
with tab_charts:
    st.caption(
        "Making Data Count charts: grey circles common cause; orange triangles special cause of concern; "
        "blue squares special cause of improvement; purple diamonds neither. Dashed lines are the process "
        "limits and the black line the centre; steps show recalculations after a rebase."
    )
    cols = st.columns(2)
    for i, key in enumerate(order):
        ind = indicator(key)
        icon = fitted[key].icon if key in fitted else variation_icon(None, "both")
        with cols[i % 2].container(border=True):
            st.markdown(
                f"**{md_escape(indicator_label(key))}**" + (" · contributing" if key in contrib else "")
            )
            st.html(
                f'<div style="display:flex;gap:8px;align-items:center">{icon.img_tag(30)}'
                f"<span>{icon.meaning}. Assurance: no target set, so no assurance icon.</span></div>"
            )
            chart, summary = mdc_chart(series, key, height=170, fitted=fitted.get(key))
            st.altair_chart(chart, key=f"mdc_{key}")
            st.caption(md_escape(summary))

with tab_cusum:
    key = st.selectbox("Indicator", order, key="cusum_ind", format_func=indicator_label)
    events = res.events.filter(pl.col("ward_id") == ward_id)
    chart, summary = cusum_chart(series, key, events)
    st.altair_chart(chart, key="cusum_chart")
    st.caption(md_escape(summary))
    if events.height:
        st.dataframe(
            events.select(
                pl.col("date").alias("Date"), pl.col("kind").alias("Event"), pl.col("note").alias("Note")
            ),
            hide_index=True,
            column_config={"Date": st.column_config.DateColumn(format="DD/MM/YYYY")},
        )

with tab_peers:
    key = st.selectbox("Indicator", order, key="funnel_ind", format_func=indicator_label)
    peers = res.latest.filter(pl.col("ward_type") == row.get("ward_type"))["ward_id"].to_list()
    totals = cached_peer_totals(res, key, tuple(sorted(peers)), s.funnel_weeks)
    if totals.height < 3:
        st.info(f"Only {totals.height} ward(s) of this type have data for this indicator: no funnel plot.")
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
