"""End-to-end harness: the real ``wardwatch dashboard`` command in a subprocess, Debian Chromium via
Playwright's Python API. Skipped (with the reason) when Chromium or Playwright is missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, file: str):  # type: ignore[no-untyped-def]
    """Import ``tests/dashboard/<file>`` under a unique module name (no clash with its conftest)."""
    import importlib.util

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "dashboard" / file)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


_pl = _load("wardwatch_dashboard_pipeline", "pipeline.py")
PipelinePaths, run_pipeline = _pl.PipelinePaths, _pl.run_pipeline
#: the hand-built results folder, used only at national scale (see test_e2e_national_scale.py)
build_results = _load("wardwatch_dashboard_fixtures", "fixtures.py").build_results

CHROMIUM = os.environ.get("WARDWATCH_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's Chromium (or ``WARDWATCH_CHROMIUM``), ``None`` when absent."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``wardwatch dashboard`` process."""

    data: Path
    port: int
    proc: subprocess.Popen | None = None
    log: Path | None = None
    extra_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        self.log = self.data.parent / f"server-{self.port}.log"
        fh = self.log.open("ab")
        # exactly the README/CLI command, run through the package's entry point
        cmd = [
            sys.executable,
            "-m",
            "engine.cli",
            "dashboard",
            "--data",
            str(self.data),
            "--port",
            str(self.port),
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard exited early: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"dashboard did not become healthy: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def e2e_fixture(tmp_path_factory: pytest.TempPathFactory) -> PipelinePaths:
    """Real pipeline output: ``wardwatch synth`` + ``wardwatch score --store`` (20 wards x 120 weeks)."""
    return run_pipeline(tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="module")
def server(browser: object, e2e_fixture: PipelinePaths) -> Iterator[Server]:
    srv = Server(e2e_fixture.data_dir, free_port()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    exe = chromium_path()
    if exe is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; dev.py test installs it)")
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, locale="en-GB")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def wait_idle(page, extra_ms: int = 200) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit is connected and its script has finished running."""
    page.wait_for_selector("[data-testid='stAppViewContainer']", state="attached")
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", state="attached")
    page.wait_for_timeout(extra_ms)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")")


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
