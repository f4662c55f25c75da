"""Progress of a background job (dashboard/services/jobs.py) while the rest of the page stays usable."""

from __future__ import annotations

import streamlit as st

from dashboard.services.jobs import JobRunner


@st.fragment(run_every=1.0)
def live_job(jobs: JobRunner, key: str, *, running: str, cancel_label: str, button_key: str) -> None:
    """Progress bar (``running: <job message>``) and cancel button of job ``key``, refreshed every
    second; when the job ends the whole page is redrawn with its result."""
    status = jobs.status(key)
    if status is None or not status.active:
        st.rerun(scope="app")
        return
    st.progress(status.fraction, text=f"{running}: {status.message}")
    if st.button(cancel_label, key=button_key):
        jobs.cancel(key)
        st.rerun(scope="app")
