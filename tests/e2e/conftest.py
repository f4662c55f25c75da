"""Fixtures of the end-to-end tests (implementation in ``e2e_harness.py``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e_harness import browser, e2e_fixture, page, server  # noqa: F401
