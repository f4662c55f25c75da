"""Identity you can deploy: roles from a server-side mapping, the role header off by default (a spoofed
role header gains nothing), and a loud warning when the dashboard is exposed without a proxy."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from dashboard.cli_dashboard import add_arguments, exposure_warning
from dashboard.services.identity import (
    GROUPS_KEY,
    ROLE_KEY,
    USER_KEY,
    RoleMapError,
    load_role_map,
    user_from_headers,
    user_from_user_info,
)
from dashboard.settings import DashboardSettings

PROXY = DashboardSettings(trust_headers=True)


@pytest.fixture
def roles(tmp_path: Path):  # type: ignore[no-untyped-def]
    f = tmp_path / "roles.toml"
    f.write_text(
        '[users]\n"J.Smith@nhs.net" = "quality"\n[groups]\n"lab-team" = "research"\n"board" = "board"\n'
    )
    return load_role_map(f)


def test_spoofed_role_header_gives_the_least_privileged_role(roles) -> None:  # type: ignore[no-untyped-def]
    # A proxy that sets only the user and passes on the browser's role header.
    spoof = {"X-Forwarded-User": "mallory", "X-Forwarded-Role": "research"}
    user = user_from_headers(spoof, PROXY, roles)
    assert user is not None and user.role == "board"
    assert not user.can("config") and not user.can("triage")
    info = {USER_KEY: "mallory", ROLE_KEY: "quality"}
    assert user_from_user_info(info, PROXY, roles).role == "board"  # type: ignore[union-attr]


def test_mapping_by_user_name_wins_over_any_header(roles) -> None:  # type: ignore[no-untyped-def]
    h = {"X-Forwarded-User": "j.smith@NHS.net", "X-Forwarded-Role": "research"}
    trusting = DashboardSettings(trust_headers=True, trust_role_header=True)
    assert user_from_headers(h, trusting, roles).role == "quality"  # type: ignore[union-attr]


def test_groups_map_to_roles_only_when_the_groups_header_is_configured(roles) -> None:  # type: ignore[no-untyped-def]
    info = {USER_KEY: "a.researcher", GROUPS_KEY: "staff, lab-team"}
    assert user_from_user_info(info, PROXY, roles).role == "board"  # type: ignore[union-attr]
    grouped = DashboardSettings(trust_headers=True, groups_header="X-Forwarded-Groups")
    assert user_from_user_info(info, grouped, roles).role == "research"  # type: ignore[union-attr]
    h = {"X-Forwarded-User": "a.researcher", "X-Forwarded-Groups": "lab-team"}
    assert user_from_headers(h, grouped, roles).role == "research"  # type: ignore[union-attr]


def test_role_header_only_when_explicitly_trusted() -> None:
    h = {"X-Forwarded-User": "x", "X-Forwarded-Role": "quality"}
    assert user_from_headers(h, PROXY).role == "board"  # type: ignore[union-attr]
    on = DashboardSettings(trust_headers=True, trust_role_header=True)
    assert user_from_headers(h, on).role == "quality"  # type: ignore[union-attr]
    assert user_from_headers(h, DashboardSettings()) is None  # headers not trusted at all


def test_bad_role_mapping_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "roles.toml"
    f.write_text('[users]\n"x" = "admin"\n')
    with pytest.raises(RoleMapError, match="admin"):
        load_role_map(f)
    assert load_role_map(tmp_path / "absent.toml").users == {}


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(list(argv))


def test_binding_beyond_localhost_without_a_proxy_warns_loudly() -> None:
    assert exposure_warning(_args()) is None
    assert exposure_warning(_args("--address", "localhost")) is None
    warning = exposure_warning(_args("--address", "0.0.0.0"))
    assert warning is not None and warning.startswith("WARNING") and "pick any role" in warning
    note = exposure_warning(_args("--address", "0.0.0.0", "--trust-proxy-headers"))
    assert note is not None and "only through the sign-in proxy" in note
