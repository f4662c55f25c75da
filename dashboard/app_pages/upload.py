"""Upload data: validate new files, then re-score in the background and swap the new results in.

Every row is accepted or listed as rejected with the uploaded file's own name, line, column and
reason; coverage warnings (wards in the register without data) are shown as the CLI prints them.
The re-score runs in a worker process (:mod:`dashboard.services.rescore`); the current results stay
served until the new ones are complete, and triage notes carry over (alerts are keyed stably).
"""

from pathlib import Path

import polars as pl
import streamlit as st

from dashboard.app_context import context
from dashboard.components.job_progress import live_job
from dashboard.components.tables import csv_download
from dashboard.services.jobs import JobRunner
from dashboard.services.lab_sweep import trust_data
from dashboard.services.rescore import clean_staging, recover, rescore_spec, stage_upload, staged_files

KIND = "rescore"
ctx = context()
st.title("Upload data")
if not ctx.user.can("upload"):
    st.warning("Your role cannot upload data.")
    st.stop()
from engine.io import FatalInputError, load_dataset  # noqa: E402

jobs = JobRunner(ctx.settings.data_path / ".wardwatch" / "jobs")
note = recover(ctx.settings.data_path)
clean_staging(ctx.settings.results_path, lambda key: (s := jobs.status(key)) is not None and s.active)
if note:
    st.info(f"Note: {note}.")


def _job_panel() -> None:
    """The latest re-score of this data folder: running, finished, failed or cancelled."""
    key = st.session_state.get("up_job")
    status = jobs.status(key) if key else jobs.latest(KIND)
    if status is None:
        return
    if status.active:
        st.caption("The current results stay on screen everywhere until the new ones are complete.")
        live_job(
            jobs,
            status.key,
            running="Re-scoring in the background",
            cancel_label="Cancel the re-score",
            button_key="up_cancel",
        )
    elif status.state == "done":
        s = status.summary
        if st.session_state.get("up_job") == status.key:
            st.success(
                f"Re-scored: {s.get('wards', '?')} wards up to {s.get('as_of', '?')}, {s.get('alerts', '?')} "
                f"alerts; the new results are now served and triage notes carried over "
                f"({status.finished} UTC)."
            )
            if st.button("Open the refreshed overview", key="up_overview", type="primary"):
                st.switch_page("app_pages/overview.py")
    elif status.state == "failed":
        st.error(f"The re-score failed, so the previous results are still served: {status.error}")
    elif status.state == "cancelled":
        st.warning("The re-score was cancelled; the previous results are still served.")


def _submit(files: dict[str, Path]) -> None:
    busy = jobs.latest(KIND)
    if busy is not None and busy.active:
        st.warning("A re-score is already running: wait for it to finish (or cancel it) first.")
        return
    spec = rescore_spec(ctx.settings.data_path, ctx.settings.results_path, files, ctx.settings.config_path)
    status = jobs.submit(KIND, spec)
    st.session_state["up_job"] = status.key
    st.rerun()


st.caption(
    "Files are checked with the same validator as `wardwatch validate`: every row is accepted or rejected "
    "with its file, line, column and reason. Only aggregate ward data may be uploaded. Re-scoring runs in "
    "the background; the current results stay served until the new ones are complete."
)
_job_panel()

obs = st.file_uploader("Observations (CSV or Parquet)", type=["csv", "parquet"], key="up_obs")
wards = st.file_uploader("Ward register (CSV)", type=["csv"], key="up_wards")
events = st.file_uploader("Events (CSV, optional)", type=["csv"], key="up_events")

if obs is None or wards is None:
    st.info("Choose an observations file and a ward register to validate them.")
    if ctx.results is not None and ctx.user.can("config"):
        with st.expander("Re-score the current data (e.g. after saving a configuration in the lab)"):
            try:
                current = trust_data(ctx.settings.data_path, ctx.results.run).files
            except Exception as exc:  # no inputs recorded
                st.caption(f"Not available: {exc}")
            else:
                cfg = ctx.settings.config_path
                st.caption(
                    "Scores "
                    + ", ".join(f"`{p.name}`" for p in current.values())
                    + (f" with `{cfg.name}`." if cfg.exists() else " with the built-in defaults.")
                )
                if st.button("Re-score the current data", key="up_rescore_current"):
                    _submit(current)
    st.stop()

uploaded = {"observations": obs, "wards": wards} | ({"events": events} if events is not None else {})
digest = tuple((r, f.name, f.size, f.file_id) for r, f in sorted(uploaded.items()))
if st.session_state.get("up_digest") != digest:  # a new upload: keep it in a folder of its own
    folder = stage_upload(ctx.settings.data_path, {r: (f.name, f.getvalue()) for r, f in uploaded.items()})
    st.session_state["up_digest"], st.session_state["up_folder"] = digest, str(folder)
folder = Path(st.session_state["up_folder"])
paths = staged_files(folder)
try:
    result = load_dataset(paths["observations"], paths["wards"], events=paths.get("events"))
except FatalInputError as exc:
    st.error(f"File refused: {str(exc).replace(f'{folder}/', '')}")
    st.stop()


def _own_name(frame: pl.DataFrame) -> pl.DataFrame:
    """The file column as the uploaded file's own name (never a server path)."""
    if "file" not in frame.columns:
        return frame
    return frame.with_columns(pl.col("file").map_elements(lambda p: Path(p).name, return_dtype=pl.String))


read, acc = result.total_read, sum(result.accepted.values())
c = st.columns(3)
c[0].metric("Rows read", f"{read:,}")
c[1].metric("Accepted", f"{acc:,}")
c[2].metric("Rejected", f"{result.rejected.height:,}")
st.caption(
    "; ".join(
        f"`{Path(f).name}`: {n:,} read, {result.accepted.get(f, 0):,} accepted"
        for f, n in result.rows_read.items()
    )
    + ". Cadence: "
    + ", ".join(f"{k} {v}" for k, v in sorted(result.cadence.items()))
)
obs_rows = result.observations
with_data = set(obs_rows["ward_id"].unique().to_list()) if obs_rows.height else set()
silent = result.wards.filter(~pl.col("ward_id").is_in(list(with_data)))
if silent.height:
    names = ", ".join(silent["ward_id"].head(10).to_list())
    st.warning(
        f"{silent.height} ward(s) without data: the register lists them but the observations have no rows "
        f"for them ({names}{' …' if silent.height > 10 else ''}). They are scored as silent."
    )
gaps = result.gaps()
if gaps.height and gaps["ends_early"].sum():
    st.warning(
        f"{int(gaps['ends_early'].sum())} series stop before their indicator's latest period (possible data "
        "silence)."
    )
for item in result.notes:
    st.info(item)
if result.rejected.height:
    st.subheader("Rejected rows")
    rejected = _own_name(result.rejected)
    by_reason = rejected.group_by("file", "code").len().sort("len", descending=True)
    st.dataframe(
        by_reason.rename({"file": "File", "code": "Reason", "len": "Rows"}),
        hide_index=True,
        key="up_reasons",
    )
    st.dataframe(rejected.drop("raw", strict=False), hide_index=True, key="up_rejected")
    csv_download("Download rejected rows (CSV)", rejected, "rejected.csv")
else:
    st.success("Every row was accepted.")
with st.expander("Full validation report (as `wardwatch validate` prints it)"):
    st.code(result.summary().replace(f"{folder}/", ""), language=None)

st.caption(f"The upload is kept as `incoming/{folder.name}/` in the data folder.")
running = (latest := jobs.latest(KIND)) is not None and latest.active
if st.button("Re-score with these files", key="up_rescore", type="primary", disabled=running or not acc):
    _submit(paths)
