"""Dashboard settings: where the data, results and triage store are, and who may do what.

The ``wardwatch dashboard`` command passes the folders to the Streamlit process through environment
variables (``WARDWATCH_DATA``, ``WARDWATCH_RESULTS``, ``WARDWATCH_STORE``), because ``streamlit run``
owns the process's command line. :func:`settings_from_env` reads them back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ENV_DATA = "WARDWATCH_DATA"
ENV_RESULTS = "WARDWATCH_RESULTS"
ENV_STORE = "WARDWATCH_STORE"
ENV_USER_HEADER = "WARDWATCH_USER_HEADER"
ENV_ROLE_HEADER = "WARDWATCH_ROLE_HEADER"
ENV_TRUST_HEADERS = "WARDWATCH_TRUST_HEADERS"
ENV_TRUST_ROLE_HEADER = "WARDWATCH_TRUST_ROLE_HEADER"
ENV_GROUPS_HEADER = "WARDWATCH_GROUPS_HEADER"
ENV_ROLES = "WARDWATCH_ROLES"

#: default data folder: what ``wardwatch demo`` generates (relative to the working directory).
DEFAULT_DATA_DIR = "demo-data"
#: default triage store inside the data folder (``engine.store`` ``StoreSettings.path``).
DEFAULT_STORE = ".wardwatch/triage.db"


@dataclass(frozen=True)
class DashboardSettings:
    """Settings of one dashboard process (one block of the TOML configuration: ``[dashboard]``)."""

    #: data folder holding observations, ``wards.csv``, ``events.csv`` and ``config.toml``.
    data_dir: str = field(default=DEFAULT_DATA_DIR, metadata={"doc": "data folder"})
    #: results folder written by ``wardwatch score``; empty = ``<data_dir>/results``.
    results_dir: str = field(default="", metadata={"doc": "results folder; empty = DATA/results"})
    #: triage store (SQLite); relative paths are resolved against the data folder.
    store_path: str = field(default=DEFAULT_STORE, metadata={"doc": "triage store, relative to DATA"})
    #: HTTP header a trusted reverse proxy sets to the signed-in user's name.
    user_header: str = field(default="X-Forwarded-User", metadata={"doc": "trusted user header"})
    #: HTTP header a trusted reverse proxy sets to the user's role (board, quality or research).
    role_header: str = field(default="X-Forwarded-Role", metadata={"doc": "trusted role header"})
    #: read identity from the headers above; only safe behind a proxy that strips client copies.
    trust_headers: bool = field(default=False, metadata={"doc": "trust the proxy's identity headers"})
    #: also take the role from ``role_header``: only safe behind a proxy that sets it itself and
    #: strips any copy the browser sent (otherwise any signed-in user picks a higher role). Off.
    trust_role_header: bool = field(
        default=False,
        metadata={"doc": "take the role from the role header (only behind a proxy that strips it)"},
    )
    #: header with the signed-in user's groups (comma-separated), e.g. ``X-Forwarded-Groups``; empty = off.
    groups_header: str = field(default="", metadata={"doc": "trusted groups header (empty = not used)"})
    #: server-side mapping of user names and groups to roles (TOML ``[users]`` / ``[groups]``),
    #: relative to the data folder; used when present.
    roles_file: str = field(
        default="roles.toml", metadata={"doc": "user/group -> role mapping, relative to DATA"}
    )
    #: role given to a header-identified user the mapping does not name (least privilege).
    default_role: str = field(default="board", metadata={"doc": "role when nothing maps the user"})
    #: wards shown in the overview heatmap (the highest ranked under the current filters).
    heatmap_wards: int = field(default=40, metadata={"doc": "wards in the overview heatmap"})
    #: wards shown as score small multiples on the overview.
    small_multiples: int = field(default=12, metadata={"doc": "wards in the small-multiples strip"})
    #: weeks of score history in the small multiples (52 = the last year).
    history_weeks: int = field(default=52, metadata={"doc": "weeks of score history shown"})
    #: weeks pooled per ward for the peer funnel plot (13 = the latest quarter).
    funnel_weeks: int = field(default=13, metadata={"doc": "weeks pooled in the funnel plot"})
    #: threshold lab's cache of benchmark data and sweeps; relative paths are inside the data folder.
    lab_dir: str = field(default=".wardwatch/lab", metadata={"doc": "threshold lab cache, relative to DATA"})
    #: configuration file the lab saves and ``wardwatch score --config`` reads, relative to DATA.
    config_file: str = field(default="config.toml", metadata={"doc": "configuration file, relative to DATA"})

    @property
    def data_path(self) -> Path:
        """The data folder as an absolute path."""
        return Path(self.data_dir).expanduser().resolve()

    @property
    def results_path(self) -> Path:
        """The results folder (``<data>/results`` unless set)."""
        if self.results_dir:
            return Path(self.results_dir).expanduser().resolve()
        return self.data_path / "results"

    @property
    def lab_path(self) -> Path:
        """The threshold lab's cache folder."""
        p = Path(self.lab_dir).expanduser()
        return p if p.is_absolute() else self.data_path / p

    @property
    def config_path(self) -> Path:
        """The data folder's configuration file (may not exist yet)."""
        p = Path(self.config_file).expanduser()
        return p if p.is_absolute() else self.data_path / p

    @property
    def roles_path(self) -> Path:
        """The server-side role mapping file (may not exist)."""
        p = Path(self.roles_file).expanduser()
        return p if p.is_absolute() else self.data_path / p

    @property
    def store_file(self) -> Path:
        """The triage store file (relative paths resolved against the data folder)."""
        p = Path(self.store_path).expanduser()
        return p if p.is_absolute() else self.data_path / p


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def settings_from_env(base: DashboardSettings | None = None) -> DashboardSettings:
    """Settings with the ``WARDWATCH_*`` environment variables applied over ``base``."""
    s = base or DashboardSettings()
    env = os.environ
    changes: dict[str, object] = {}
    if env.get(ENV_DATA):
        changes["data_dir"] = env[ENV_DATA]
    if env.get(ENV_RESULTS):
        changes["results_dir"] = env[ENV_RESULTS]
    if env.get(ENV_STORE):
        changes["store_path"] = env[ENV_STORE]
    if env.get(ENV_USER_HEADER):
        changes["user_header"] = env[ENV_USER_HEADER]
    if env.get(ENV_ROLE_HEADER):
        changes["role_header"] = env[ENV_ROLE_HEADER]
    if ENV_TRUST_HEADERS in env:
        changes["trust_headers"] = _truthy(env[ENV_TRUST_HEADERS])
    if ENV_TRUST_ROLE_HEADER in env:
        changes["trust_role_header"] = _truthy(env[ENV_TRUST_ROLE_HEADER])
    if env.get(ENV_GROUPS_HEADER):
        changes["groups_header"] = env[ENV_GROUPS_HEADER]
    if env.get(ENV_ROLES):
        changes["roles_file"] = env[ENV_ROLES]
    return replace(s, **changes)  # type: ignore[arg-type]
