"""Who is using the dashboard: a trusted proxy header, or a clearly labelled demo picker.

Behind a trust's authenticating reverse proxy (e.g. an OAuth2 proxy in front of Entra ID) the proxy
sets the signed-in user's name in a header (``X-Forwarded-User`` by default). It is read **only**
when ``DashboardSettings.trust_headers`` is on, because anyone can send such a header to an
unprotected server; the proxy must overwrite or strip client-supplied copies.

Roles come from a **server-side mapping** (:class:`RoleMap`, the data folder's ``roles.toml``)::

    [users]
    "j.smith@nhs.net" = "quality"
    [groups]                        # with groups_header set (e.g. X-Forwarded-Groups)
    "ward-quality-directors" = "quality"

A user named in ``[users]`` gets that role; otherwise the first ``[groups]`` entry (file order) the
user belongs to; otherwise, only with ``trust_role_header`` on, the role header; otherwise
``default_role`` (board: least privilege). The role header is **off by default**: a proxy that sets
the user but passes on a role header sent by the browser would let any signed-in user choose a
higher role. Locally there is no authentication: a demo user picker, labelled as such, chooses a role.

The headers reach the app through Streamlit's own mechanism: ``wardwatch dashboard
--trust-proxy-headers`` starts Streamlit with ``server.trustedUserHeaders`` mapping the user and
role headers to the ``st.user`` keys :data:`USER_KEY` and :data:`ROLE_KEY` (Streamlit copies them
from the WebSocket handshake into ``st.user``). :func:`user_from_user_info` reads them back.

Roles gate actions, not reading: every role reads the overview, inbox and ward pages.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dashboard.settings import DashboardSettings

Role = Literal["board", "quality", "research"]
ROLES: tuple[str, ...] = ("board", "quality", "research")
ROLE_WORDS: dict[str, str] = {
    "board": "Board member",
    "quality": "Quality director",
    "research": "Researcher",
}
#: what each role may do: read (overview, inbox, ward), brief (briefings), triage (inbox actions),
#: upload (validate new files), lab (threshold lab), config (save configuration).
CAPABILITIES: dict[str, frozenset[str]] = {
    "board": frozenset({"read", "brief"}),
    "quality": frozenset({"read", "brief", "triage", "upload"}),
    "research": frozenset({"read", "brief", "lab", "config", "upload"}),
}
#: ``st.user`` keys the trusted user and role headers are copied to (``server.trustedUserHeaders``).
USER_KEY = "wardwatch_user"
ROLE_KEY = "wardwatch_role"
GROUPS_KEY = "wardwatch_groups"
DEMO_USERS: dict[str, str] = {
    "demo-quality-director": "quality",
    "demo-board-member": "board",
    "demo-researcher": "research",
}


@dataclass(frozen=True)
class User:
    """The person using the dashboard; ``name`` is the actor recorded in the audit trail."""

    name: str
    role: str
    source: Literal["proxy", "demo"]

    def can(self, capability: str) -> bool:
        """Whether this user's role allows ``capability``."""
        return capability in CAPABILITIES.get(self.role, frozenset())

    @property
    def label(self) -> str:
        """ "name (Role)" for display."""
        return f"{self.name} ({ROLE_WORDS.get(self.role, self.role)})"


class RoleMapError(ValueError):
    """The role mapping file cannot be used (the message names the file and the entry)."""


@dataclass(frozen=True)
class RoleMap:
    """Server-side mapping of user names and groups to roles (names and groups matched without case).

    Attributes
    ----------
    users:
        Lower-cased user name -> role.
    groups:
        Lower-cased group -> role, in the file's order (the first group a user is in wins).
    """

    users: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    def role_of(self, name: str, groups: tuple[str, ...] = ()) -> str | None:
        """The mapped role of a user (by name, then by group), or ``None``."""
        role = self.users.get(name.strip().lower())
        if role:
            return role
        member = {g.strip().lower() for g in groups}
        return next((r for g, r in self.groups.items() if g in member), None)


def load_role_map(path: str | Path) -> RoleMap:
    """Read a ``roles.toml``; a missing file is an empty mapping.

    Raises
    ------
    RoleMapError
        Not TOML, an unknown table, or a role that is not one of :data:`ROLES`.
    """
    p = Path(path)
    if not p.is_file():
        return RoleMap()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RoleMapError(f"{p}: not a valid TOML role mapping ({exc})") from None
    unknown = sorted(set(data) - {"users", "groups"})
    if unknown:
        raise RoleMapError(f"{p}: unknown table [{unknown[0]}] (use [users] and [groups])")
    tables: dict[str, dict[str, str]] = {}
    for table in ("users", "groups"):
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            raise RoleMapError(f"{p}: [{table}] must be a table of name = role")
        for k, v in entries.items():
            if not isinstance(v, str) or v.strip().lower() not in ROLES:
                raise RoleMapError(f"{p}: {table}.{k} = {v!r} is not one of {', '.join(ROLES)}")
        tables[table] = {str(k).strip().lower(): v.strip().lower() for k, v in entries.items()}
    return RoleMap(tables["users"], tables["groups"])


def _role(
    name: str, role_claim: object, groups_claim: object, settings: DashboardSettings, roles: RoleMap | None
) -> str:
    """The role of a proxy-identified user: mapping by name, by group, role header (opt-in), default."""
    groups = (
        tuple(g for g in str(groups_claim).split(",") if g.strip()) if isinstance(groups_claim, str) else ()
    )
    mapped = (roles or RoleMap()).role_of(name, groups if settings.groups_header else ())
    if mapped:
        return mapped
    if settings.trust_role_header and isinstance(role_claim, str) and role_claim.strip().lower() in ROLES:
        return role_claim.strip().lower()
    return settings.default_role


def _header(headers: Mapping[str, str], name: str) -> str | None:
    want = name.lower()
    for k, v in headers.items():
        if k.lower() == want and v and v.strip():
            return v.strip()
    return None


def user_from_headers(
    headers: Mapping[str, str], settings: DashboardSettings, roles: RoleMap | None = None
) -> User | None:
    """The proxy-authenticated user, or ``None`` (headers not trusted, or no user header).

    The role comes from ``roles`` (the server-side mapping), the role header only when
    ``settings.trust_role_header``, else ``settings.default_role`` (least privilege: board).
    """
    if not settings.trust_headers:
        return None
    name = _header(headers, settings.user_header)
    if not name:
        return None
    groups = _header(headers, settings.groups_header) if settings.groups_header else None
    role = _role(name, _header(headers, settings.role_header), groups, settings, roles)
    return User(name=name, role=role, source="proxy")


def trusted_header_map(settings: DashboardSettings) -> dict[str, str]:
    """``server.trustedUserHeaders`` for these settings: header name -> ``st.user`` key.

    The role header is copied only when it is trusted, the groups header only when configured.
    """
    out = {settings.user_header: USER_KEY}
    if settings.trust_role_header:
        out[settings.role_header] = ROLE_KEY
    if settings.groups_header:
        out[settings.groups_header] = GROUPS_KEY
    return out


def user_from_user_info(
    info: Mapping[str, object], settings: DashboardSettings, roles: RoleMap | None = None
) -> User | None:
    """The proxy-authenticated user from ``st.user`` (filled by ``server.trustedUserHeaders``).

    ``None`` when headers are not trusted or the proxy sent no user name. The role as in
    :func:`user_from_headers`.
    """
    if not settings.trust_headers:
        return None
    raw = info.get(USER_KEY)
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        return None
    role = _role(name, info.get(ROLE_KEY), info.get(GROUPS_KEY), settings, roles)
    return User(name=name, role=role, source="proxy")


def demo_user(name: str) -> User:
    """A demo user by picker name (unknown names fall back to the board role)."""
    return User(name=name, role=DEMO_USERS.get(name, "board"), source="demo")
