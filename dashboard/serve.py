"""``python -m dashboard.serve run APP [options]``: Streamlit's own command line, plus cache warming.

``wardwatch dashboard`` starts the server through this module instead of ``python -m streamlit``,
so the first visitor does not pay for reading the results: as soon as Streamlit's runtime exists,
a background thread fills the same in-process caches the pages use
(:func:`dashboard.app_context.warm_caches`). Warming never blocks the server or fails it; a
problem is left for the pages to report. Log lines go to standard error (:mod:`dashboard.logs`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time

logger = logging.getLogger("dashboard.serve")  # not __name__: this module runs as __main__

#: how long the warming thread waits for Streamlit's runtime (seconds).
RUNTIME_WAIT_S = 120.0


def warm_when_ready() -> None:
    """Wait for Streamlit's runtime, then warm the dashboard's caches (errors are printed, not raised)."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + RUNTIME_WAIT_S
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        from dashboard.app_context import warm_caches

        took = warm_caches()
        logger.info("caches warmed in %.1f s", took)
    except Exception as exc:  # warming is an optimisation: the pages report real problems
        logger.warning("cache warming skipped (%s)", exc)


def preload() -> None:
    """Import what warming and the pages use, in this (main) thread, before any other thread runs.

    Two threads importing pandas at once can see it half-initialised ("partially initialized
    module 'pandas'"), so the warming thread and the first session's script must find these
    modules already imported.
    """
    import altair  # noqa: F401
    import pandas  # noqa: F401
    import polars  # noqa: F401
    import pyarrow  # noqa: F401

    import dashboard.app_context
    import dashboard.components.board_charts
    import dashboard.components.charts
    import dashboard.services.overview
    import dashboard.services.ward_view  # noqa: F401


def main() -> None:
    """Import the heavy modules, start the warming thread, then hand the command line to Streamlit."""
    from dashboard.logs import configure_logging

    configure_logging()
    logger.info("starting: streamlit %s", " ".join(sys.argv[1:]))
    preload()
    threading.Thread(target=warm_when_ready, name="wardwatch-warm", daemon=True).start()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *sys.argv[1:]]
    streamlit_main()


if __name__ == "__main__":
    main()
