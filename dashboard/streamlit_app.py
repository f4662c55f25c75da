"""wardwatch dashboard entrypoint: page config, identity, shared context and role-based navigation.

Run with ``wardwatch dashboard --data DIR`` (which calls ``streamlit run`` on this file).
"""

import logging

import streamlit as st

from dashboard.app_context import build_context
from dashboard.components.icons import favicon
from dashboard.logs import configure_logging

configure_logging()  # idempotent; also when started by plain `streamlit run`
logger = logging.getLogger("dashboard.app")

# a local favicon: ":material/…" icons make the browser fetch the icon from fonts.gstatic.com,
# which fails offline (NHS networks) and tells a third party the dashboard is open
st.set_page_config(page_title="wardwatch", page_icon=favicon(), layout="wide")

ctx = build_context()
st.session_state["_ctx"] = ctx
user = ctx.user

overview = st.Page("app_pages/overview.py", title="Trust overview", icon=":material/dashboard:", default=True)
inbox = st.Page("app_pages/inbox.py", title="Alert inbox", icon=":material/inbox:", url_path="inbox")
ward = st.Page("app_pages/ward.py", title="Ward detail", icon=":material/bed:", url_path="ward")
briefing = st.Page(
    "app_pages/briefing.py", title="Visit briefing", icon=":material/description:", url_path="briefing"
)
lab = st.Page("app_pages/lab.py", title="Threshold lab", icon=":material/science:", url_path="lab")
upload = st.Page("app_pages/upload.py", title="Upload data", icon=":material/upload:", url_path="upload")

sections: dict[str, list] = {"Monitor": [overview, inbox, ward]}
if user.can("brief"):
    sections["Visit"] = [briefing]
tools = [p for p, cap in ((upload, "upload"), (lab, "lab")) if user.can(cap)]
if tools:
    sections["Tools"] = tools

st.sidebar.caption(f"Data: `{ctx.settings.data_path}`  \nResults: `{ctx.settings.results_path}`")
page = st.navigation(sections)
if st.session_state.get("_logged_page") != page.url_path:  # a page view, not every rerun of it
    st.session_state["_logged_page"] = page.url_path
    # bare mode (the script executed outside a server, e.g. re-run as ``__main__`` by a spawned
    # worker process) leaves the page untitled: log the path rather than fail
    title = page.title if hasattr(page, "title") else page.url_path
    logger.info("page view: %s (user %s, role %s)", title, user.name, user.role)
page.run()
