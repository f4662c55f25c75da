"""Walk-the-patch briefing: choose wards and the last visit date; download a printable PDF / HTML."""

import datetime as dt

import polars as pl
import streamlit as st

from dashboard.app_context import context
from dashboard.services.briefing import render_briefing, weasyprint_available

ctx = context()
st.title("Visit briefing")
if ctx.results is None:
    st.error(ctx.error)
    st.stop()
if not ctx.user.can("brief"):
    st.warning("Your role cannot prepare briefings.")
    st.stop()
res = ctx.results
names = dict(zip(res.latest["ward_id"].to_list(), res.latest["ward_name"].to_list(), strict=True))
flagged = res.latest.filter(pl.col("level").is_in(["concern", "urgent"]))["ward_id"].to_list()
st.caption(
    "One printable A4 page per ward: status and why in plain English, key charts, what has changed since "
    "your last visit, questions to ask and space for notes."
)
wards = st.multiselect(
    "Wards to visit",
    res.latest["ward_id"].to_list(),
    default=flagged[:3] or res.latest["ward_id"].to_list()[:1],
    key="brief_wards",
    format_func=lambda w: f"{names.get(w, w)} ({w})",
)
default_visit = (res.as_of - dt.timedelta(days=91)) if res.as_of else dt.date.today()
last_visit = st.date_input(
    "Date of your last visit", value=default_visit, format="DD/MM/YYYY", key="brief_last"
)

if st.button("Prepare briefing", type="primary", disabled=not wards, key="brief_go"):
    with st.spinner("Drawing charts and printing the PDF…"):
        out = render_briefing(res, list(wards), last_visit=last_visit, store=ctx.store)
    st.session_state["brief_out"] = (tuple(wards), last_visit, out)

made = st.session_state.get("brief_out")
if made and made[0] == tuple(wards) and made[1] == last_visit:
    out = made[2]
    stamp = f"{dt.date.today():%Y%m%d}"
    c1, c2 = st.columns(2)
    if out.pdf is not None:
        c1.download_button(
            "Download PDF",
            data=out.pdf,
            file_name=f"ward-briefing-{stamp}.pdf",
            mime="application/pdf",
            key="dl_pdf",
            on_click="ignore",
            type="primary",
        )
    else:
        c1.warning(out.note or weasyprint_available()[1])
    c2.download_button(
        "Download HTML",
        data=out.html.encode("utf-8"),
        file_name=f"ward-briefing-{stamp}.html",
        mime="text/html",
        key="dl_html",
        on_click="ignore",
    )
    n = len(made[0])
    pages = f"{out.pages} A4 page{'s' if out.pages != 1 else ''} for " if out.pages else ""
    st.caption(
        f"Briefing ready: {pages}{n} ward{'s' if n != 1 else ''}. Preview (the same pages and charts as the PDF):"
    )
    st.html(out.html)
elif wards:
    st.info("Press **Prepare briefing** to build the pages.")
