"""Alert inbox: the triage store's alerts; select one to acknowledge, investigate, close and add notes."""

import polars as pl
import streamlit as st

from dashboard.app_context import context, md_escape
from dashboard.services.formatting import (
    LEVEL_WORDS,
    OUTCOME_WORDS,
    STATUS_WORDS,
    indicator_label,
    safe_csv,
    uk_date,
    uk_timestamp,
)
from dashboard.services.triage import inbox_frame, perform
from engine.store import OUTCOMES, STATUSES

ctx = context()
st.title("Alert inbox")
if ctx.results is None or ctx.store is None:
    st.error(ctx.error or "No triage store.")
    st.stop()
store, res, user = ctx.store, ctx.results, ctx.user

flash = st.session_state.pop("inbox_flash", None)
if flash is not None:
    (st.success if flash.ok else st.warning)(flash.message)

f1, f2, f3 = st.columns([2, 2, 3])
statuses = f1.multiselect(
    "Status",
    list(STATUSES),
    default=["new", "acknowledged", "investigating"],
    key="f_status",
    format_func=lambda s: STATUS_WORDS[s],
)
scopes = f2.multiselect("Scope", ["ward", "indicator"], default=["ward", "indicator"], key="f_scope")
search = f3.text_input("Find a ward", key="f_ward", placeholder="ward name or id")

frame = inbox_frame(store, res, status=statuses or None)
if scopes:
    frame = frame.filter(pl.col("scope").is_in(scopes))
if search:
    needle = search.strip().lower()
    frame = frame.filter(
        pl.col("ward_name").str.to_lowercase().str.contains(needle, literal=True)
        | pl.col("ward_id").str.to_lowercase().str.contains(needle, literal=True)
    )
table = frame.select(
    pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Status"),
    pl.col("level").replace_strict(LEVEL_WORDS, default=pl.col("level")).alias("Level"),
    pl.col("opened").alias("Opened"),
    pl.col("ward_name").alias("Ward"),
    pl.when(pl.col("scope") == "ward")
    .then(pl.lit("Ward (combined)"))
    .otherwise(pl.col("indicator").map_elements(indicator_label, return_dtype=pl.String))
    .alias("What"),
    pl.col("explanation").alias("Explanation"),
    pl.col("note_count").alias("Notes"),
    "alert_id",
)
st.caption(
    f"{table.height} alert(s) match; "
    + ", ".join(f"{(frame['status'] == s).sum()} {STATUS_WORDS[s].lower()}" for s in STATUSES)
    + ". Select a row to triage it."
)
# After a triage action the table is re-keyed (its order may change: new alerts come first) and the
# acted-on alert is re-selected by id, never by its old row number.
focus = st.session_state.get("inbox_focus")
ids = table["alert_id"].to_list()
default = {"selection": {"rows": [ids.index(focus)], "columns": []}} if focus in ids else None
event = st.dataframe(
    table,
    key=f"inbox_table_{st.session_state.get('inbox_gen', 0)}",
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    selection_default=default,
    column_config={
        "Opened": st.column_config.DateColumn("Opened", format="DD/MM/YYYY"),
        "Explanation": st.column_config.TextColumn("Explanation", width="large"),
        "alert_id": st.column_config.TextColumn("Alert id", width="small"),
    },
    height=min(38 + 35 * max(table.height, 1), 360),
)
st.download_button(
    "Download alerts (CSV)",
    data=safe_csv(table),
    file_name="wardwatch-alerts.csv",
    mime="text/csv",
    on_click="ignore",
)

if not event.selection.rows or event.selection.rows[0] >= table.height:
    st.info("Select an alert in the table to see its detail, notes and audit trail.")
    st.stop()

alert_id = table["alert_id"][event.selection.rows[0]]
detail = store.get(alert_id)
a = detail.alert
row = frame.filter(pl.col("alert_id") == alert_id).row(0, named=True)

st.divider()
st.subheader(f"{md_escape(row['ward_name'])}: {LEVEL_WORDS.get(a.level, a.level)} alert")
st.markdown(
    f"**Status:** {STATUS_WORDS[a.status]}"
    + (f" ({OUTCOME_WORDS.get(a.outcome or '', a.outcome)})" if a.outcome else "")
    + f" · **Opened:** {uk_date(a.opened)} · **Onset (estimate):** {uk_date(a.onset_estimate)}"
    + f" · **Last seen:** {uk_date(a.last_seen)}"
    + (f" · **Condition ended:** {uk_date(a.closed)}" if a.closed else " · condition still holds")
    + f" · version {a.version}"
)
if a.reopened_reason:
    st.warning(f"Reopened: {md_escape(a.reopened_reason)}")
st.markdown("**Explanation**")
st.markdown(md_escape(a.explanation) or "_No explanation recorded._")
if row.get("questions"):
    st.markdown("**Questions to ask**")
    st.markdown("\n".join(f"- {md_escape(q.strip())}" for q in row["questions"].split("|") if q.strip()))


def _act(action: str, version: int, **kw: object) -> None:
    text = None
    if action == "note":
        text = st.session_state.get(f"note_{alert_id}", "")
    if action == "close":
        kw["outcome"] = st.session_state.get(f"outcome_{alert_id}")
        text = st.session_state.get(f"close_note_{alert_id}") or None
    result = perform(store, action, alert_id, user.name, version, text=text, **kw)  # type: ignore[arg-type]
    st.session_state["inbox_flash"] = result
    if result.ok and action == "note":
        st.session_state[f"note_{alert_id}"] = ""
    if result.ok and action != "note":  # status changed: the row may move or leave the table
        st.session_state["inbox_gen"] = st.session_state.get("inbox_gen", 0) + 1
        st.session_state["inbox_focus"] = alert_id


if user.can("triage"):
    b1, b2, b3 = st.columns(3)
    b1.button(
        "Acknowledge",
        key=f"ack_{alert_id}",
        on_click=_act,
        args=("acknowledge", a.version),
        disabled=a.status != "new",
        use_container_width=True,
    )
    b2.button(
        "Start investigation",
        key=f"inv_{alert_id}",
        on_click=_act,
        args=("investigate", a.version),
        disabled=a.status not in ("new", "acknowledged"),
        use_container_width=True,
    )
    with b3.popover(
        "Close with outcome",
        disabled=a.status not in ("acknowledged", "investigating"),
        use_container_width=True,
    ):
        st.selectbox(
            "Outcome", list(OUTCOMES), key=f"outcome_{alert_id}", format_func=lambda o: OUTCOME_WORDS[o]
        )
        st.text_area("Closing note (optional)", key=f"close_note_{alert_id}")
        st.button("Close alert", key=f"close_{alert_id}", on_click=_act, args=("close", a.version))
    st.text_area("Add a note", key=f"note_{alert_id}", placeholder="What did you find or do?")
    st.button("Save note", key=f"save_note_{alert_id}", on_click=_act, args=("note", a.version))
else:
    st.info(f"Your role ({user.role}) can read alerts; triage needs the quality role.")

st.markdown("**Notes**")
if detail.notes:
    for n in reversed(detail.notes):
        st.markdown(f"*{uk_timestamp(n.created_at)} – {md_escape(n.author)}*")
        st.text(n.text)
else:
    st.caption("No notes yet.")

st.markdown("**Audit trail**")
audit = pl.DataFrame(
    {
        "When": [uk_timestamp(e.at) for e in detail.audit],
        "Who": [e.actor for e in detail.audit],
        "Action": [e.action.replace("_", " ") for e in detail.audit],
        "Field": [e.field or "" for e in detail.audit],
        "From": [e.old or "" for e in detail.audit],
        "To": [e.new or "" for e in detail.audit],
    },
    schema=dict.fromkeys(("When", "Who", "Action", "Field", "From", "To"), pl.String),
)
st.dataframe(audit, hide_index=True, key=f"audit_{alert_id}")
