"""Triage shown where decisions are made: a ward's triage badge and the provider-wide section.

Small Streamlit renderers over ``services.ward_triage`` and ``services.provider_share``; the
overview and ward pages call them with one line each. User text (names) is escaped.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.services.audit_words import ALL_STATUS_WORDS
from dashboard.services.formatting import LEVEL_ORDER, indicator_label
from dashboard.services.provider_share import DETERIORATION_LABEL, provider_shares
from dashboard.services.results import Results
from dashboard.services.ward_triage import WardTriage, ward_triage
from engine.store import OPEN_STATUSES, TriageStore

_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$"


def _md(text: object) -> str:
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(text))


def ward_triage_badge(store: TriageStore | None, ward_id: str, level: str | None) -> WardTriage | None:
    """The ward's triage state under its header; a warning when level and triage disagree."""
    if store is None:
        return None
    t = ward_triage(store, [ward_id]).get(ward_id)
    if t is None:
        st.caption("Triage: no ward alert in the inbox.")
        return None
    st.markdown(f"**Triage:** {_md(t.text)} · alert `{_md(t.alert_id)}`")
    if t.flag:
        st.warning(
            f"{t.flag}: the ward alert {t.follows} was closed as no concern found, but the evidence has "
            f"kept growing since; a new alert ({t.alert_id}) is open for it in the inbox."
        )
    elif t.status == "closed" and LEVEL_ORDER.get(level or "none", 0) >= LEVEL_ORDER["concern"]:
        st.warning(  # not a blue box: blue means improvement in Making Data Count
            f"The ward is at {level} while its alert is closed ({_md(t.text)}): the triage decision "
            "stands until the evidence grows or the level rises."
        )
    st.page_link("app_pages/inbox.py", label="Open in the alert inbox", query_params={"ward": ward_id})
    return t


def provider_section(results: Results, store: TriageStore | None, providers: list[str] | None = None) -> None:
    """Provider-wide changes (provider alerts whose condition holds), with their ward share and triage."""
    alerts = results.alerts.filter((pl.col("scope") == "provider") & pl.col("closed").is_null())
    if providers:
        alerts = alerts.filter(pl.col("provider").is_in(providers))
    shares = {s.alert_id: s for s in provider_shares(results, alerts)}
    states = {}
    if store is not None and alerts.height:
        stored = store.list_alerts(scope="provider")
        states = {a.alert_id: a for a in stored}
    open_n = sum(1 for a in states.values() if a.status in OPEN_STATUSES and a.closed is None)
    with st.expander(f"Provider-wide changes ({alerts.height} current, {open_n} open in the inbox)"):
        if alerts.is_empty():
            st.caption("No provider-wide change is current.")
            return
        rows = []
        for r in alerts.sort("opened", descending=True).iter_rows(named=True):
            share = shares.get(r["alert_id"])
            a = states.get(r["alert_id"])
            rows.append(
                {
                    "Provider": r["provider"],
                    "Indicator": indicator_label(r["indicator"]) or DETERIORATION_LABEL,
                    "Change": "Wards at concern"
                    if not r["indicator"]
                    else ("Rise" if r["direction"] == "up" else "Fall"),
                    "Since": r["opened"],
                    "Wards sharing it": share.summary if share else "",
                    "Triage": "" if a is None else ALL_STATUS_WORDS.get(a.status, a.status),
                    "Owner": None if a is None else a.assignee,
                }
            )
        st.dataframe(
            pl.DataFrame(rows),
            hide_index=True,
            key="provider_changes",
            column_config={"Since": st.column_config.DateColumn(format="DD/MM/YYYY")},
        )
        st.caption(
            "A change on most wards of a provider at once usually has a common cause; it is reported "
            "once here and triaged in the inbox's provider section. Several wards of one provider at "
            "concern together are listed too: that is deterioration spreading, not an artefact."
        )
