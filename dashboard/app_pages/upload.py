"""Upload data: validate new observation, ward and event files and show the row-level report."""

import datetime as dt
import tempfile
from pathlib import Path

import streamlit as st

from dashboard.app_context import context
from dashboard.services.formatting import safe_csv
from engine.io.safe_csv import write_safe_csv

ctx = context()
st.title("Upload data")
if not ctx.user.can("upload"):
    st.warning("Your role cannot upload data.")
    st.stop()
try:
    from engine.io import FatalInputError, load_dataset
except ImportError:  # pragma: no cover - the validator ships with the engine
    st.error("The validator (engine.io) is not available in this installation.")
    st.stop()

st.caption(
    "Files are checked with the same validator as `wardwatch validate`: every row is accepted or rejected "
    "with its file, line, column and reason. Only aggregate ward data may be uploaded."
)
obs = st.file_uploader("Observations (CSV or Parquet)", type=["csv", "parquet"], key="up_obs")
wards = st.file_uploader("Ward register (CSV)", type=["csv"], key="up_wards")
events = st.file_uploader("Events (CSV, optional)", type=["csv"], key="up_events")

if obs is None or wards is None:
    st.info("Choose an observations file and a ward register to validate them.")
    st.stop()

with tempfile.TemporaryDirectory() as tmp:
    paths = {}
    for label, f in (("obs", obs), ("wards", wards), ("events", events)):
        if f is not None:
            p = Path(tmp) / label / Path(f.name).name  # a folder per role: same-named files never collide
            p.parent.mkdir()
            p.write_bytes(f.getvalue())
            paths[label] = p
    try:
        result = load_dataset(paths["obs"], paths["wards"], events=paths.get("events"))
    except FatalInputError as exc:
        st.error(f"File refused: {exc}")
        st.stop()

read, acc = result.total_read, sum(result.accepted.values())
c = st.columns(3)
c[0].metric("Rows read", f"{read:,}")
c[1].metric("Accepted", f"{acc:,}")
c[2].metric("Rejected", f"{result.rejected.height:,}")
st.caption(
    f"{read:,} rows read, {acc:,} accepted, {result.rejected.height:,} rejected; "
    + ", ".join(f"{k}: {v}" for k, v in sorted(result.cadence.items()))
)
for note in result.notes:
    st.info(note)
if result.rejected.height:
    st.subheader("Rejected rows")
    by_reason = result.rejected.group_by("reason").len().sort("len", descending=True)
    st.dataframe(by_reason.rename({"reason": "Reason", "len": "Rows"}), hide_index=True, key="up_reasons")
    st.dataframe(result.rejected.drop("raw", strict=False), hide_index=True, key="up_rejected")
    st.download_button(
        "Download rejected rows (CSV)",
        data=safe_csv(result.rejected),
        file_name="rejected.csv",
        mime="text/csv",
        on_click="ignore",
    )
else:
    st.success("Every row was accepted.")

if st.button("Save accepted files to the data folder", key="up_save"):
    stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}"
    dest = ctx.settings.data_path / "incoming" / stamp
    n = 1
    while dest.exists():  # two saves in one second never overwrite each other
        n += 1
        dest = ctx.settings.data_path / "incoming" / f"{stamp}-{n}"
    dest.mkdir(parents=True)
    result.observations.write_parquet(dest / "observations.parquet")
    result.wards.write_csv(dest / "wards.csv")
    if result.events.height:
        result.events.write_csv(dest / "events.csv")
    if result.rejected.height:
        write_safe_csv(result.rejected, dest / "rejected.csv")
    st.success(
        f"Saved to {dest}. Score them with `wardwatch score --observations {dest / 'observations.parquet'} "
        f"--wards {dest / 'wards.csv'} --out DIR`."
    )
