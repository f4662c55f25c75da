"""Alert inbox by ward: one row per ward (level, open alerts, owner, status, when it began), its
indicator alerts under it, provider-wide alerts in their own tab; triage, assign, reopen and bulk
actions with a required note; the audit trail in plain words at UK local time."""

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from dashboard.app_context import context, md_escape
from dashboard.components.tables import csv_download, selectable_table
from dashboard.services.audit_words import ALL_OUTCOME_WORDS, audit_rows, audit_sentences, uk_local_time
from dashboard.services.formatting import LEVEL_WORDS, OUTCOME_WORDS, indicator_label, uk_date
from dashboard.services.inbox_rows import (
    SHOW_CHOICES,
    STATE_WORDS,
    InboxFilters,
    condition_words,
    indicator_rows,
    provider_rows,
    ward_rows,
    with_states,
)
from dashboard.services.provider_share import DETERIORATION_LABEL, provider_shares
from dashboard.services.triage import inbox_frame, open_children, perform, perform_bulk
from engine.contract.levels import LEVEL_NAMES
from engine.store import OPEN_STATUSES, OUTCOMES, STATUSES, Alert, AlertDetail, Note

if TYPE_CHECKING:
    pass

ctx = context()
st.title("Alert inbox")
if ctx.results is None or ctx.store is None:
    st.error(ctx.error or "No triage store.")
    st.stop()
store, res, user = ctx.store, ctx.results, ctx.user
days = store.settings.ended_before_triage_days
data_end = store.data_end() or res.as_of
gen = st.session_state.get("inbox_gen", 0)

flash = st.session_state.pop("inbox_flash", None)
if flash is not None:
    (st.success if flash.ok else st.warning)(flash.message)

frame = with_states(inbox_frame(store, res), data_end, days)

# ------------------------------------------------------------------ filters
f1, f2, f3, f4 = st.columns([3, 3, 2, 3])
show = f1.radio(
    "Show", list(SHOW_CHOICES), key="f_show", horizontal=True, format_func=lambda s: SHOW_CHOICES[s]
)
statuses = f2.multiselect(
    "Status",
    list(STATUSES),
    default=list(OPEN_STATUSES),
    key="f_status",
    format_func=lambda s: STATE_WORDS[s],
)
levels = f3.multiselect(
    "Level", list(LEVEL_NAMES[::-1]), key="f_level", format_func=lambda lv: LEVEL_WORDS[lv]
)
providers = f4.multiselect(
    "Provider", sorted(res.wards["provider"].unique().to_list()), key="f_inbox_provider"
)
g1, g2 = st.columns([3, 2])
search = g1.text_input("Find a ward", key="f_ward", placeholder="ward name or id")
include_ended = g2.checkbox(
    "Show alerts that ended before triage",
    key="f_ended",
    help=f"New alerts whose condition ended more than {days} days before the latest data ({uk_date(data_end)}).",
)
include_unflagged = g2.checkbox(
    "Show wards with indicator alerts only",
    key="f_unflagged",
    help="Wards not at watch, concern or urgent whose only open alerts are single-indicator alerts "
    "(one indicator does not raise a ward's level). Folded away so the inbox opens on the flagged wards.",
)
filters = InboxFilters(
    show=show or "all",
    user=user.name,
    statuses=tuple(statuses),
    levels=tuple(levels),
    providers=tuple(providers),
    search=search,
    include_ended=include_ended,
    include_unflagged=include_unflagged,
)
rows = ward_rows(frame, res.latest, filters)
n_unflagged = (
    0
    if include_unflagged
    else ward_rows(frame, res.latest, replace(filters, include_unflagged=True)).height - rows.height
)
prov = provider_rows(frame, filters)


# ------------------------------------------------------------------ counts and ended-before-triage
def _run_bulk(
    action: str,
    targets: pl.DataFrame,
    note_key: str,
    *,
    outcome: str | None = None,
    outcome_key: str | None = None,
    clear_note: bool = False,
) -> None:
    """Button callback: ``action`` on every alert of ``targets`` (at the versions shown) with the note
    typed under ``note_key``; closing takes ``outcome`` or the one chosen under ``outcome_key``."""
    versions = dict(zip(targets["alert_id"].to_list(), targets["version"].to_list(), strict=True))
    if action == "close" and outcome is None and outcome_key is not None:
        outcome = st.session_state.get(outcome_key)
    note = st.session_state.get(note_key, "")
    result = perform_bulk(
        store, action, versions, user.name, note=note, outcome=outcome if action == "close" else None
    )
    st.session_state["inbox_flash"] = result
    if result.ok:
        st.session_state["inbox_gen"] = gen + 1
        if clear_note:
            st.session_state[note_key] = ""


counts = store.inbox_counts(days)
ended = frame.filter(pl.col("state") == "ended_before_triage")
st.caption(
    f"{rows.height} ward(s) shown"
    + (f" ({n_unflagged} more with indicator alerts only, folded away)" if n_unflagged else "")
    + ". In the store: {counts.current_ward_rows} ward(s) with open alerts, "
    f"{counts.open} open ward and indicator alerts ({counts.new_current} new whose condition still holds), "
    f"{counts.provider_open} open provider-wide alerts; {counts.historical} historical alerts (ended "
    f"before the first import) are searchable with the Historical status. Data to {uk_date(data_end)}."
)
if ended.height:
    msg = (
        f"{ended.height} new alert(s) on {ended['ward_id'].n_unique()} ward(s) ended more than {days} days "
        "before the latest data without anyone triaging them."
    )
    if user.can("triage"):
        with st.popover(f"Close {ended.height} alert(s) that ended before triage"):
            st.caption(msg)
            st.text_area("Note (required)", key="ended_note", placeholder="Why they can be closed")
            st.button(
                "Close them all", key="close_ended", on_click=_run_bulk,
                args=("close", ended, "ended_note"), kwargs={"outcome": "ended_before_triage"},
            )  # fmt: skip
    else:
        st.caption(msg)


# ------------------------------------------------------------------ one alert: detail and actions
def _act(alert_id: str, action: str, version: int, **kw: object) -> None:
    text = None
    if action == "note":
        text = st.session_state.get(f"note_{alert_id}", "")
    elif action == "close":
        kw["outcome"] = st.session_state.get(f"outcome_{alert_id}")
        text = st.session_state.get(f"close_note_{alert_id}") or None
        if st.session_state.get(f"cascade_{alert_id}"):
            kw["children"] = open_children(store, alert_id)
    elif action == "reopen":
        text = st.session_state.get(f"reopen_reason_{alert_id}", "")
    elif action == "assign" and "assignee" not in kw:
        kw["assignee"] = st.session_state.get(f"assign_to_{alert_id}", "")
    result = perform(store, action, alert_id, user.name, version, text=text, **kw)  # type: ignore[arg-type]
    st.session_state["inbox_flash"] = result
    if result.ok and action == "note":
        st.session_state[f"note_{alert_id}"] = ""
    if result.ok and action != "note":  # the row may move or leave the table: re-key, keep the focus
        st.session_state["inbox_gen"] = gen + 1


def _alert_panel(alert_id: str, heading: str) -> None:
    """One alert: its state, explanation and questions, triage actions, notes and audit trail."""
    detail = store.get(alert_id)
    a = detail.alert
    info = frame.filter(pl.col("alert_id") == alert_id)
    row = info.row(0, named=True) if info.height else {}
    st.subheader(md_escape(heading))
    _alert_summary(a, row)
    if user.can("triage"):
        _triage_actions(alert_id, a)
        _assign_and_note(alert_id, a)
    else:
        st.info(f"Your role ({user.role}) can read alerts; triage needs the quality role.")
    _alert_notes(alert_id, detail)
    st.markdown("**Audit trail** (UK time)")
    st.dataframe(
        pl.DataFrame(audit_rows(audit_sentences(detail.audit))), hide_index=True, key=f"audit_{alert_id}"
    )


def _alert_summary(a: Alert, row: dict) -> None:
    """Status, owner and dates on one line; reopen/follow/supersede notices; explanation; questions."""
    state = row.get("state", a.status)
    owner = a.assignee or "nobody"
    st.markdown(
        f"**Status:** {STATE_WORDS.get(state, state)}"
        + (f" ({ALL_OUTCOME_WORDS.get(a.outcome or '', a.outcome)})" if a.outcome else "")
        + f" · **Owner:** {md_escape(owner)}"
        + f" · **Opened:** {uk_date(a.opened)} · **Onset (estimate):** {uk_date(a.onset_estimate)}"
        + f" · **Last seen:** {uk_date(a.last_seen)}"
        + (f" · **Condition ended:** {uk_date(a.closed)}" if a.closed else " · condition still holds")
        + f" · version {a.version}"
    )
    if a.reopened_reason:
        st.warning(f"Reopened: {md_escape(a.reopened_reason)}")
    if a.follows:
        st.warning(
            f"Re-opened evidence since {uk_date(a.opened)}: follows alert {a.follows}, closed as no concern "
            "found, whose evidence kept growing. Its notes are below."
        )
    if a.superseded_by:
        st.info(f"Re-scoring replaced this alert by {a.superseded_by}; triage continues there.")
    st.markdown("**Explanation**")
    st.markdown(md_escape(a.explanation) or "_No explanation recorded._")
    if row.get("questions"):
        st.markdown("**Questions to ask**")
        st.markdown("\n".join(f"- {md_escape(q.strip())}" for q in row["questions"].split("|") if q.strip()))


def _triage_actions(alert_id: str, a: Alert) -> None:
    """Acknowledge, start investigation, close with an outcome (and its open indicator alerts), reopen."""
    b1, b2, b3, b4 = st.columns(4)
    b1.button(
        "Acknowledge", key=f"ack_{alert_id}", on_click=_act, args=(alert_id, "acknowledge", a.version),
        disabled=a.status not in ("new", "historical"), use_container_width=True,
    )  # fmt: skip
    b2.button(
        "Start investigation", key=f"inv_{alert_id}", on_click=_act,
        args=(alert_id, "investigate", a.version),
        disabled=a.status not in ("new", "historical", "acknowledged"), use_container_width=True,
    )  # fmt: skip
    with b3.popover("Close with outcome", disabled=a.status == "closed", use_container_width=True):
        st.selectbox(
            "Outcome", list(OUTCOMES), key=f"outcome_{alert_id}", format_func=lambda o: OUTCOME_WORDS[o]
        )
        needs = a.status in ("new", "historical")
        st.text_area(
            "Closing note (required: nobody has acknowledged it)" if needs else "Closing note (optional)",
            key=f"close_note_{alert_id}",
        )
        children = open_children(store, alert_id) if a.scope == "ward" else {}
        if children:
            st.checkbox(
                f"Also close its {len(children)} open indicator alert(s), with the same outcome and note "
                "(one audit entry each)",
                value=True,
                key=f"cascade_{alert_id}",
            )
        st.button("Close alert", key=f"close_{alert_id}", on_click=_act, args=(alert_id, "close", a.version))
    with b4.popover("Reopen", disabled=a.status not in ("closed", "historical"), use_container_width=True):
        st.text_input("Why reopen it? (required)", key=f"reopen_reason_{alert_id}")
        st.button(
            "Reopen alert", key=f"reopen_{alert_id}", on_click=_act, args=(alert_id, "reopen", a.version)
        )


def _assign_and_note(alert_id: str, a: Alert) -> None:
    """Assign (to a colleague or oneself) while the alert is open; add a note."""
    if a.status != "closed":
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.text_input("Assign to", key=f"assign_to_{alert_id}", placeholder="a colleague's name")
        c2.button("Assign", key=f"assign_{alert_id}", on_click=_act, args=(alert_id, "assign", a.version))
        c3.button(
            "Assign to me", key=f"assign_me_{alert_id}", on_click=_act,
            args=(alert_id, "assign", a.version), kwargs={"assignee": user.name},
            disabled=a.assignee == user.name,
        )  # fmt: skip
    st.text_area("Add a note", key=f"note_{alert_id}", placeholder="What did you find or do?")
    st.button("Save note", key=f"save_note_{alert_id}", on_click=_act, args=(alert_id, "note", a.version))


def _alert_notes(alert_id: str, detail: AlertDetail) -> None:
    """The alert's notes, newest first, then those of the alerts it follows or replaced."""
    a = detail.alert
    st.markdown("**Notes**")
    earlier = store.predecessors(alert_id) + ([store.get(a.follows).alert] if a.follows else [])
    if detail.notes:
        _note_lines(detail.notes)
    elif not earlier:
        st.caption("No notes yet.")
    for old in earlier:
        old_notes = store.get(old.alert_id).notes
        if old_notes:
            st.markdown(f"*Notes on the earlier alert {old.alert_id} (opened {uk_date(old.opened)}):*")
            _note_lines(old_notes)


def _note_lines(notes: Sequence[Note]) -> None:
    for n in reversed(notes):
        st.markdown(f"*{uk_local_time(n.created_at)} – {md_escape(n.author)}*")
        st.text(n.text)


def _indicator_section(ward_id: str) -> None:
    inds = indicator_rows(frame, ward_id, filters)
    with st.expander(f"Indicator alerts of this ward ({inds.height})", expanded=True):
        if inds.is_empty():
            st.caption("No indicator alert matches the filters.")
            return
        table = inds.select(
            pl.col("indicator").map_elements(indicator_label, return_dtype=pl.String).alias("Indicator"),
            pl.col("state").replace_strict(STATE_WORDS, default=pl.col("state")).alias("Status"),
            pl.col("assignee").alias("Owner"),
            pl.col("began").alias("Began"),
            condition_words().alias("Condition"),
            pl.col("explanation").alias("Explanation"),
            "alert_id",
        )
        picked = selectable_table(
            table,
            key=f"inbox_ind_{ward_id}_{gen}",
            mode="multi-row",
            column_config={
                "Began": st.column_config.DateColumn(format="DD/MM/YYYY"),
                "Explanation": st.column_config.TextColumn(width="large"),
            },
        )
        chosen = [table["alert_id"][i] for i in picked]
        targets = inds.filter(pl.col("alert_id").is_in(chosen)) if chosen else inds
        if not user.can("triage"):
            return
        which = f"the {len(chosen)} selected" if chosen else f"all {inds.height}"
        st.caption(
            f"Bulk actions apply to {which} indicator alert(s); each gets your note and its own audit entry."
        )
        k1, k2 = st.columns([1, 2])
        k1.selectbox(
            "Outcome", list(OUTCOMES), key=f"bulk_outcome_{ward_id}", format_func=lambda o: OUTCOME_WORDS[o]
        )
        k2.text_input("Note for the bulk action (required)", key=f"bulk_note_{ward_id}")
        note_key, outcome_key = f"bulk_note_{ward_id}", f"bulk_outcome_{ward_id}"
        m1, m2 = st.columns(2)
        for column, action, label, short in (
            (m1, "acknowledge", "Acknowledge", "ack"),
            (m2, "close", "Close", "close"),
        ):
            column.button(
                f"{label} {which}", key=f"bulk_{short}_{ward_id}",
                on_click=_run_bulk, args=(action, targets, note_key),
                kwargs={"outcome_key": outcome_key, "clear_note": True}, use_container_width=True,
            )  # fmt: skip


def _ward_audit(ward_id: str) -> None:
    alerts = frame.filter(pl.col("ward_id") == ward_id)
    labels = {
        r["alert_id"]: ("Ward alert" if r["scope"] == "ward" else indicator_label(r["indicator"]))
        + f" ({uk_date(r['opened'])})"
        for r in alerts.iter_rows(named=True)
    }
    entries = [e for aid in labels for e in store.get(aid).audit]
    with st.expander(f"Audit trail of all {len(labels)} alerts of this ward (UK time)"):
        st.dataframe(
            pl.DataFrame(audit_rows(audit_sentences(entries), labels)),
            hide_index=True,
            key=f"ward_audit_{ward_id}",
        )


# ------------------------------------------------------------------ wards and provider-wide tabs
tab_wards, tab_prov = st.tabs([f"Wards ({rows.height})", f"Provider-wide ({prov.height})"])


def _wards_bulk() -> None:
    """Acknowledge or close every visible alert of the wards shown (after the filters), one note."""
    shown = frame.filter(
        pl.col("ward_id").is_in(rows["ward_id"].implode())
        & (pl.col("scope") != "provider")
        & pl.col("status").is_in(list(filters.statuses))
        & (pl.col("status") != "closed")
        & (pl.lit(filters.include_ended) | (pl.col("state") != "ended_before_triage"))
    )
    acks = shown.filter(pl.col("status").is_in(["new", "historical"]))
    with st.popover(f"Bulk action on the {rows.height} ward(s) shown", disabled=shown.is_empty()):
        st.caption(
            f"{shown.height} open alert(s) on these wards ({acks.height} not yet acknowledged). Each alert gets "
            "your note and its own audit entry; if anyone changed one meanwhile, nothing is changed."
        )
        st.selectbox(
            "Outcome when closing",
            list(OUTCOMES),
            key="wards_bulk_outcome",
            format_func=lambda o: OUTCOME_WORDS[o],
        )
        st.text_input("Note (required)", key="wards_bulk_note")
        for action, label, short, targets in (
            ("acknowledge", "Acknowledge", "ack", acks),
            ("close", "Close", "close", shown),
        ):
            st.button(
                f"{label} {targets.height}", key=f"wards_bulk_{short}",
                on_click=_run_bulk, args=(action, targets, "wards_bulk_note"),
                kwargs={"outcome_key": "wards_bulk_outcome"},
            )  # fmt: skip


with tab_wards:
    if user.can("triage") and rows.height:
        _wards_bulk()
    display = rows.drop("lead_id", "level")
    wanted = st.query_params.get("ward")
    ids = rows["ward_id"].to_list()
    default = {"selection": {"rows": [ids.index(wanted)], "columns": []}} if wanted in ids else None
    picked = selectable_table(
        display,
        key=f"inbox_wards_{gen}",
        selection_default=default,
        column_config={
            "Began": st.column_config.DateColumn("Condition began", format="DD/MM/YYYY"),
            "ward_id": st.column_config.TextColumn("Ward id", width="small"),
        },
        height=min(38 + 35 * max(rows.height, 1), 420),
    )
    csv_download("Download the ward rows (CSV)", display, "wardwatch-inbox.csv")
    if not picked:
        st.info("Select a ward to see its alert, indicator alerts, notes and audit trail.")
    else:
        r = rows.row(picked[0], named=True)
        st.divider()
        lead = frame.filter(pl.col("alert_id") == r["lead_id"]).row(0, named=True)
        what = "ward alert" if lead["scope"] == "ward" else f"{indicator_label(lead['indicator'])} alert"
        _alert_panel(r["lead_id"], f"{r['Ward']}: {LEVEL_WORDS.get(lead['level'], lead['level'])} {what}")
        _indicator_section(r["ward_id"])
        _ward_audit(r["ward_id"])

with tab_prov:
    if prov.is_empty():
        st.info("No provider-wide alert matches the filters.")
    else:
        shares = {
            s.alert_id: s.summary
            for s in provider_shares(
                res, res.alerts.filter(pl.col("alert_id").is_in(prov["alert_id"].implode()))
            )
        }
        ptable = prov.select(
            pl.col("provider").alias("Provider"),
            pl.when(pl.col("indicator").fill_null("") == "")  # several wards at concern together
            .then(pl.lit(DETERIORATION_LABEL))
            .otherwise(pl.col("indicator").map_elements(indicator_label, return_dtype=pl.String))
            .alias("Indicator"),
            pl.when(pl.col("indicator").fill_null("") == "")
            .then(pl.lit("Wards at concern"))
            .when(pl.col("direction") == "up")
            .then(pl.lit("Rise"))
            .otherwise(pl.lit("Fall"))
            .alias("Change"),
            pl.col("alert_id").replace_strict(shares, default="").alias("Wards sharing it"),
            pl.col("state").replace_strict(STATE_WORDS, default=pl.col("state")).alias("Status"),
            pl.col("assignee").alias("Owner"),
            pl.col("began").alias("Began"),
            condition_words().alias("Condition"),
            "alert_id",
        )
        csv_download("Download provider-wide alerts (CSV)", ptable, "wardwatch-provider-alerts.csv")
        ppicked = selectable_table(
            ptable,
            key=f"inbox_prov_{gen}",
            column_config={"Began": st.column_config.DateColumn(format="DD/MM/YYYY")},
        )
        if ppicked:
            p = ptable.row(ppicked[0], named=True)
            st.divider()
            title = (
                f"{p['Provider']}: {DETERIORATION_LABEL.lower()}"
                if p["Indicator"] == DETERIORATION_LABEL
                else f"{p['Provider']}: provider-wide {p['Change'].lower()} in {p['Indicator'].lower()}"
            )
            _alert_panel(p["alert_id"], title)
