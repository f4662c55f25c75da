"""Shared per-run context for the Streamlit pages: settings, user, results and triage store.

The router (``streamlit_app.py``) resolves these once per script run and stores them in
``st.session_state["_ctx"]``; pages call :func:`context`. Heavy objects come from Streamlit caches
keyed on content hashes, so a rerun costs a few file ``stat`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard.services.identity import (
    DEMO_USERS,
    ROLE_WORDS,
    RoleMapError,
    User,
    demo_user,
    load_role_map,
    user_from_headers,
    user_from_user_info,
)
from dashboard.services.results import Results, ResultsError, cached_results
from dashboard.services.triage import open_store, sync_results
from dashboard.settings import DashboardSettings, settings_from_env
from engine.store import TriageStore


@dataclass(frozen=True)
class AppContext:
    """What every page needs. ``results``/``store`` are ``None`` with ``error`` set when unavailable."""

    settings: DashboardSettings
    user: User
    results: Results | None
    store: TriageStore | None
    error: str = ""


@st.cache_resource(max_entries=4)
def _store(path: str) -> TriageStore:
    return open_store(Path(path))


@st.cache_resource(max_entries=8, show_spinner="Updating the triage inbox…")
def _synced(results_key: str, store_path: str, _results: Results, _store: TriageStore) -> str:
    """Sync a results folder into the store once per (content, store); returns a summary line."""
    summary = sync_results(_store, _results)
    if summary is None:
        return "no alerts"
    return f"{summary.inserted} new, {summary.updated} updated, {summary.unchanged} unchanged"


def request_headers() -> dict[str, str]:
    """Headers of the browser's request to this session (empty without a request context)."""
    try:
        return dict(st.context.headers)
    except (AttributeError, RuntimeError, KeyError):  # bare mode / test harness
        return {}


def user_info() -> dict[str, object]:
    """``st.user`` as a plain dict (empty without a session, e.g. in bare mode)."""
    try:
        return dict(st.user.to_dict())
    except (AttributeError, RuntimeError, KeyError):
        return {}


def resolve_user(settings: DashboardSettings) -> User:
    """Proxy user (trusted headers), else the sidebar demo picker (clearly labelled).

    With ``trust_headers`` on, identity comes from ``st.user`` as filled by Streamlit's
    ``server.trustedUserHeaders`` (``wardwatch dashboard --trust-proxy-headers`` sets it); when the
    app was started by plain ``streamlit run`` without that option, the same headers are read from
    the session's request. A request without a user header is refused: behind a proxy there is no
    demo picker, so nobody can choose a role.
    """
    if settings.trust_headers:
        try:
            roles = load_role_map(settings.roles_path)
        except RoleMapError as exc:
            st.error(f"The role mapping cannot be used: {exc}. Ask your administrator.")
            st.stop()
        user = user_from_user_info(user_info(), settings, roles) or user_from_headers(
            request_headers(), settings, roles
        )
        if user is None:
            st.error(
                "Not signed in: the trust's sign-in proxy sent no user name "
                f"(header `{settings.user_header}`). Ask your administrator."
            )
            st.stop()
        st.sidebar.caption(
            f"Signed in as **{md_escape(user.name)}** ({ROLE_WORDS[user.role]}) via the trust proxy."
        )
        return user
    st.sidebar.warning("Demo mode: no sign-in. Pick who you are; this is **not** authentication.")
    name = st.sidebar.selectbox(
        "Demo user",
        list(DEMO_USERS),
        key="demo_user",
        format_func=lambda n: f"{n} ({ROLE_WORDS[DEMO_USERS[n]]})",
        bind="query-params",  # ?demo_user=... keeps the choice across reloads and page switches
    )
    return demo_user(name)


def build_context() -> AppContext:
    """Resolve settings, user, results and store for this run (called by the router)."""
    settings = settings_from_env()
    user = resolve_user(settings)
    try:
        results = cached_results(settings.results_path, settings.data_path)
    except ResultsError as exc:
        return AppContext(settings, user, None, None, str(exc))
    try:
        store = _store(str(settings.store_file))
        _synced(results.key, str(settings.store_file), results, store)
    except Exception as exc:  # a broken store must not hide the results
        return AppContext(settings, user, results, None, f"Triage store unavailable: {exc}")
    return AppContext(settings, user, results, store)


#: wards (wards to visit first, then by rank) whose series and first charts are built at start.
WARM_WARDS = 40


def warm_caches(settings: DashboardSettings | None = None, wards: int = WARM_WARDS) -> float:
    """Fill the pages' caches before the first visitor: results, triage sync, overview, and the series
    and first charts of the ``wards`` highest-ranked wards (wards to visit first).

    Called once by ``dashboard.serve`` when Streamlit's runtime exists (same process, so the same
    ``st.cache_*`` entries the pages read). Also builds one Altair chart, which loads Altair's
    schema validator (about half a second on first use). Returns the seconds it took.
    """
    import time

    import altair as alt
    import polars as pl

    from dashboard.services.overview import cached_overview
    from dashboard.services.results import cached_ward_series
    from dashboard.services.ward_view import cached_indicator_charts, cached_strength_chart, lead_indicators

    start = time.perf_counter()
    settings = settings or settings_from_env()
    results = cached_results(settings.results_path, settings.data_path)
    store = _store(str(settings.store_file))
    _synced(results.key, str(settings.store_file), results, store)
    ov = cached_overview(
        results, (), (), settings.heatmap_wards, settings.small_multiples, settings.history_weeks
    )
    alt.Chart(pl.DataFrame({"x": [1.0]})).mark_point().encode(x="x:Q").to_dict()
    for ward_id in list(dict.fromkeys(ov.visit["ward_id"].to_list() + ov.ward_ids))[:wards]:
        series = cached_ward_series(results, ward_id)
        if series.is_empty():
            continue
        present = series["indicator"].unique().to_list()
        lead, _ = lead_indicators(results.ward_row(ward_id), results.ward_alert(ward_id), present)
        cached_strength_chart(results, ward_id)
        for key in lead:  # the charts a ward page draws first
            cached_indicator_charts(results, ward_id, key)
    return time.perf_counter() - start


def context() -> AppContext:
    """The context the router put in session state for this run."""
    ctx = st.session_state.get("_ctx")
    if ctx is None:  # a page run directly (tests): build it here
        ctx = build_context()
        st.session_state["_ctx"] = ctx
    return ctx


_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$"


def md_escape(text: object) -> str:
    """Escape Markdown (and HTML-significant) characters so user text shows literally in st.markdown."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(text))
