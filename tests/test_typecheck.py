"""The type checker is part of CI: mypy over the configured packages must report no error.

The configuration (checked paths, strictness, libraries without type information) lives in
``[tool.mypy]`` of pyproject.toml, so this test, ``python dev.py lint`` and a bare ``mypy`` agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_reports_no_errors() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"mypy found type errors:\n{done.stdout}{done.stderr}"
