"""A served dashboard leaves a trace: start-up, page views, results read and store writes at INFO."""

from __future__ import annotations

import logging

import pytest

from dashboard.logs import configure_logging
from dashboard.services.triage import perform, perform_bulk, sync_results
from engine.store import TriageStore

QD = "demo-quality-director"


def test_configure_logging_is_idempotent_and_takes_the_level_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger = logging.getLogger("dashboard")
    before = (list(logger.handlers), logger.level)
    try:
        monkeypatch.setenv("WARDWATCH_LOG_LEVEL", "warning")
        configure_logging()
        configure_logging()
        ours = [h for h in logger.handlers if getattr(h, "_wardwatch_handler", False)]
        assert len(ours) == 1
        assert logger.level == logging.WARNING
        configure_logging("no-such-level")
        assert logger.level == logging.INFO
    finally:
        for h in list(logger.handlers):
            if h not in before[0]:
                logger.removeHandler(h)
        logger.setLevel(before[1])


def test_page_views_and_results_are_logged(app_env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dashboard")
    at = app_env()
    at.run()
    at.switch_page("app_pages/inbox.py").run()
    assert not at.exception
    views = [r.getMessage() for r in caplog.records if r.name == "dashboard.app"]
    assert len(views) == 2
    assert views[0].startswith("page view: Trust overview") and views[1].startswith("page view: Alert inbox")
    assert all(f"(user {QD}, role " in v for v in views)
    at.run()  # a rerun of the same page is not another view
    assert len([r for r in caplog.records if r.name == "dashboard.app"]) == 2


def test_store_writes_are_logged_without_what_the_user_typed(
    fixture_paths, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    from dashboard.services.results import load_results

    caplog.set_level(logging.INFO, logger="dashboard")
    store = TriageStore(tmp_path / "triage.db")
    sync_results(store, load_results(fixture_paths.results_dir, fixture_paths.data_dir))
    aid = fixture_paths.episode_alert_id
    version = store.get(aid).alert.version
    secret = "the nurse in charge said something private"
    assert perform(store, "note", aid, QD, version, text=secret).ok
    assert not perform(store, "acknowledge", aid, QD, version - 1).ok  # a stale version
    assert not perform_bulk(store, "close", {aid: version}, QD, note=secret).ok  # no outcome: not tried
    lines = [r.getMessage() for r in caplog.records if r.name == "dashboard.services.triage"]
    assert any("synced into the store" in line for line in lines)
    assert f"store {store.path}: note of {aid} by {QD} saved" in lines
    assert f"store {store.path}: acknowledge of {aid} by {QD} refused: stale version" in lines
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_the_server_logs_under_the_configured_namespace() -> None:
    """``python -m dashboard.serve`` runs as ``__main__``: its logger must still be a dashboard one."""
    from dashboard import serve
    from dashboard.logs import NAMESPACES

    assert serve.logger.name.split(".")[0] in NAMESPACES
