"""``wardwatch dashboard``: serve the Streamlit dashboard for a data folder on localhost."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from dashboard.services.identity import RoleMapError, load_role_map, trusted_header_map
from dashboard.settings import DashboardSettings
from engine.cli import CliError

HELP = "Serve the dashboard (overview, inbox, ward detail, briefings) for a data folder on localhost."
APP = Path(__file__).resolve().parent / "streamlit_app.py"
ROOT = APP.parent.parent
#: NHS identity colours (NHS Blue, dark grey, warm yellow, emergency red) for the Streamlit theme.
THEME = {
    "theme.base": "light",
    "theme.primaryColor": "#005EB8",
    "theme.textColor": "#231F20",
    "theme.linkColor": "#005EB8",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", default="demo-data", help="data folder (default: demo-data, what `demo` writes)"
    )
    parser.add_argument(
        "--results", help="results folder written by `wardwatch score` (default: DATA/results)"
    )
    parser.add_argument("--store", help="triage store file (default: DATA/.wardwatch/triage.db)")
    parser.add_argument("--port", type=int, default=8501, help="port on localhost (default 8501)")
    parser.add_argument("--address", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--trust-proxy-headers",
        action="store_true",
        help="read the user from the proxy's headers into st.user (Streamlit's server.trustedUserHeaders); "
        "only behind a proxy that sets them and strips client copies",
    )
    parser.add_argument(
        "--user-header", default=DashboardSettings.user_header, help="trusted user header (X-Forwarded-User)"
    )
    parser.add_argument(
        "--role-header", default=DashboardSettings.role_header, help="role header (X-Forwarded-Role)"
    )
    parser.add_argument(
        "--trust-role-header",
        action="store_true",
        help="also take the role from --role-header: ONLY behind a proxy that sets it itself and strips any "
        "copy sent by the browser (otherwise any signed-in user can pick a higher role); prefer --roles",
    )
    parser.add_argument(
        "--groups-header", default="", help="header with the user's groups, e.g. X-Forwarded-Groups (off)"
    )
    parser.add_argument(
        "--roles",
        help="server-side mapping of users and groups to roles, TOML [users] / [groups] "
        "(default: DATA/roles.toml when present)",
    )


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run`` command line for these arguments."""
    cmd = [
        sys.executable,
        "-P",  # never import from the working directory (a stray timeit.py there would shadow stdlib)
        "-m",
        "dashboard.serve",  # Streamlit's command line plus warming the caches at start
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.port={int(args.port)}",
        f"--server.address={args.address}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--client.toolbarMode=viewer",
        "--client.showErrorDetails=type",
        "--global.developmentMode=false",
    ]
    cmd += [f"--{k}={v}" for k, v in THEME.items()]
    if getattr(args, "trust_proxy_headers", False):
        headers = DashboardSettings(
            user_header=getattr(args, "user_header", DashboardSettings.user_header),
            role_header=getattr(args, "role_header", DashboardSettings.role_header),
            trust_role_header=getattr(args, "trust_role_header", False),
            groups_header=getattr(args, "groups_header", ""),
        )
        cmd.append(f"--server.trustedUserHeaders={json.dumps(trusted_header_map(headers))}")
    return cmd


LOCAL_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def exposure_warning(args: argparse.Namespace) -> str | None:
    """A loud warning when the dashboard is reachable beyond this machine without a sign-in proxy."""
    address = str(args.address).strip().lower()
    if address in LOCAL_ADDRESSES or address.startswith("127."):
        return None
    if not getattr(args, "trust_proxy_headers", False):
        return (
            f"WARNING: serving on {args.address} with NO sign-in: anyone who can reach port {args.port} "
            "can open the dashboard and pick any role in the demo picker (including triage and "
            "configuration). Put it behind the trust's authenticating proxy and pass "
            "--trust-proxy-headers, or bind to 127.0.0.1."
        )
    return (
        f"note: serving on {args.address}: make sure port {args.port} is reachable only through the "
        "sign-in proxy, which must overwrite the user header"
        + (
            " and strip any role header the browser sends."
            if getattr(args, "trust_role_header", False)
            else "."
        )
    )


def run(args: argparse.Namespace) -> int:
    data = Path(args.data).expanduser().resolve()
    if not data.is_dir():
        raise CliError(f"data folder {data} does not exist (run `wardwatch demo` or pass --data DIR)")
    results = Path(args.results).expanduser().resolve() if args.results else data / "results"
    if not (results / "ward_status.csv").exists():
        raise CliError(f"no results in {results}: run `wardwatch score --out {results}` first")
    env = dict(os.environ)
    env["WARDWATCH_DATA"] = str(data)
    env["WARDWATCH_RESULTS"] = str(results)
    if args.store:
        env["WARDWATCH_STORE"] = str(Path(args.store).expanduser().resolve())
    env["WARDWATCH_TRUST_HEADERS"] = "1" if args.trust_proxy_headers else "0"
    env["WARDWATCH_USER_HEADER"] = args.user_header
    env["WARDWATCH_ROLE_HEADER"] = args.role_header
    env["WARDWATCH_TRUST_ROLE_HEADER"] = "1" if args.trust_role_header else "0"
    if args.groups_header:
        env["WARDWATCH_GROUPS_HEADER"] = args.groups_header
    if args.roles:
        roles = Path(args.roles).expanduser().resolve()
        try:
            load_role_map(roles)
        except RoleMapError as exc:
            raise CliError(str(exc)) from None
        if not roles.is_file():
            raise CliError(f"role mapping {roles} does not exist")
        env["WARDWATCH_ROLES"] = str(roles)
    warning = exposure_warning(args)
    if warning:
        banner = "!" * 78
        print(f"{banner}\n{warning}\n{banner}", file=sys.stderr, flush=True)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    cmd = streamlit_command(args)
    print(
        f"wardwatch dashboard: serving {data} on http://{args.address}:{args.port}",
        file=sys.stderr,
        flush=True,
    )
    if os.name == "posix":
        os.execve(sys.executable, cmd, env)  # replace this process: signals reach Streamlit directly
    try:  # pragma: no cover - non-POSIX
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:  # pragma: no cover
        return 130
