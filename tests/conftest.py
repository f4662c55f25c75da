"""Suite-wide fixtures."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_main_module() -> Iterator[None]:
    """Put ``sys.modules["__main__"]`` back after each test.

    Streamlit's script runner (AppTest included) installs the app script as ``__main__`` and leaves it
    there; a later test that starts a spawned process pool (the robustness grid) would then re-run the
    Streamlit app in every worker instead of pytest's entry point.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
