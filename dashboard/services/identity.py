"""Who is using the dashboard: a trusted proxy header, or a clearly labelled demo picker.

Behind a trust's authenticating reverse proxy (e.g. an OAuth2 proxy in front of Entra ID) the proxy
sets the signed-in user's name in a header (``X-Forwarded-User`` by default) and may set a role
header. These are read **only** when ``DashboardSettings.trust_headers`` is on, because anyone can
send such headers to an unprotected server; the proxy must strip client-supplied copies. Locally
there is no authentication: a demo user picker, labelled as such, chooses a role.

The headers reach the app through Streamlit's own mechanism: ``wardwatch dashboard
--trust-proxy-headers`` starts Streamlit with ``server.trustedUserHeaders`` mapping the user and
role headers to the ``st.user`` keys :data:`USER_KEY` and :data:`ROLE_KEY` (Streamlit copies them
from the WebSocket handshake into ``st.user``). :func:`user_from_user_info` reads them back.

Roles gate actions, not reading: every role reads the overview, inbox and ward pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


def _header(headers: Mapping[str, str], name: str) -> str | None:
    want = name.lower()
    for k, v in headers.items():
        if k.lower() == want and v and v.strip():
            return v.strip()
    return None


def user_from_headers(headers: Mapping[str, str], settings: DashboardSettings) -> User | None:
    """The proxy-authenticated user, or ``None`` (headers not trusted, or no user header).

    An unknown or missing role header gives ``settings.default_role`` (least privilege: board).
    """
    if not settings.trust_headers:
        return None
    name = _header(headers, settings.user_header)
    if not name:
        return None
    role = (_header(headers, settings.role_header) or "").lower()
    return User(name=name, role=role if role in ROLES else settings.default_role, source="proxy")


def trusted_header_map(settings: DashboardSettings) -> dict[str, str]:
    """``server.trustedUserHeaders`` for these settings: header name -> ``st.user`` key."""
    return {settings.user_header: USER_KEY, settings.role_header: ROLE_KEY}


def user_from_user_info(info: Mapping[str, object], settings: DashboardSettings) -> User | None:
    """The proxy-authenticated user from ``st.user`` (filled by ``server.trustedUserHeaders``).

    ``None`` when headers are not trusted or the proxy sent no user name. An unknown or missing
    role gives ``settings.default_role`` (least privilege).
    """
    if not settings.trust_headers:
        return None
    raw = info.get(USER_KEY)
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        return None
    role_raw = info.get(ROLE_KEY)
    role = role_raw.strip().lower() if isinstance(role_raw, str) else ""
    return User(name=name, role=role if role in ROLES else settings.default_role, source="proxy")


def demo_user(name: str) -> User:
    """A demo user by picker name (unknown names fall back to the board role)."""
    return User(name=name, role=DEMO_USERS.get(name, "board"), source="demo")
