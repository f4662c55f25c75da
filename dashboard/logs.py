"""Where a served dashboard's log lines go: standard error, one line each, at INFO by default.

Modules log through ``logging.getLogger(__name__)``; nothing is configured at import. The server
(:mod:`dashboard.serve`) and the app script call :func:`configure_logging` once, which gives the
``dashboard`` and ``engine`` loggers a handler on standard error (next to Streamlit's own lines), so
a served dashboard leaves a trace: start-up, page views, results loaded, every triage store write.
``WARDWATCH_LOG_LEVEL`` (DEBUG, INFO, WARNING...) changes the level. Notes and reasons users type are
never logged: only which action, on which alerts, by whom.
"""

from __future__ import annotations

import logging
import os
import sys

#: logger namespaces configured for a served dashboard.
NAMESPACES = ("dashboard", "engine")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MARK = "_wardwatch_handler"


def configure_logging(level: str | None = None) -> None:
    """Send the ``dashboard`` and ``engine`` loggers to standard error (idempotent).

    ``level`` defaults to ``WARDWATCH_LOG_LEVEL`` or INFO; an unknown name falls back to INFO.
    """
    name = (level or os.environ.get("WARDWATCH_LOG_LEVEL") or "INFO").upper()
    value = logging.getLevelName(name)
    value = value if isinstance(value, int) else logging.INFO
    for namespace in NAMESPACES:
        logger = logging.getLogger(namespace)
        logger.setLevel(value)
        if any(getattr(h, _MARK, False) for h in logger.handlers):
            continue
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        setattr(handler, _MARK, True)
        logger.addHandler(handler)
