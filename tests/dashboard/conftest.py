"""Shared fixtures for the dashboard tests: real pipeline output (synth + score) and an AppTest factory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import PipelinePaths, run_pipeline

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")


@pytest.fixture(scope="session")
def fixture_paths(tmp_path_factory: pytest.TempPathFactory) -> PipelinePaths:
    """``wardwatch synth`` (20 wards x 120 weeks, seed 3) + ``wardwatch score --store`` output."""
    return run_pipeline(tmp_path_factory.mktemp("dash"))


@pytest.fixture(scope="session")
def hostile_paths(tmp_path_factory: pytest.TempPathFactory) -> PipelinePaths:
    """Same, with the top ward renamed ``<script>alert(1)</script>`` and a formula-like event note."""
    return run_pipeline(
        tmp_path_factory.mktemp("hostile"),
        hostile_name="<script>alert(1)</script>",
        event_note='=HYPERLINK("http://evil.example","click")',
    )


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fixture_paths: PipelinePaths):
    """Point the app at the fixture with a fresh triage store; returns a factory of AppTests."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("WARDWATCH_DATA", str(fixture_paths.data_dir))
    monkeypatch.setenv("WARDWATCH_RESULTS", str(fixture_paths.results_dir))
    monkeypatch.setenv("WARDWATCH_STORE", str(tmp_path / "triage.db"))
    monkeypatch.setenv("WARDWATCH_TRUST_HEADERS", "0")

    def make(user: str = "demo-quality-director") -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["demo_user"] = user
        return at

    return make
