"""``wardwatch config``: show, check and write the one configuration file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli import CliError
from engine.cli.settings_args import add_config_options, config_from_args

HELP = "Show the full configuration with defaults, check a configuration file, or write the defaults."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print the full resolved configuration (TOML, commented)")
    add_config_options(show, help="configuration TOML to resolve (default: built-in defaults)")
    show.add_argument(
        "--configured-only", action="store_true", help="list only configured [indicators.*] tables"
    )
    check = sub.add_parser("check", help="validate a configuration file (exit 2 naming the bad key)")
    check.add_argument("file")
    write = sub.add_parser("write", help="write the full default configuration to FILE")
    write.add_argument("file")
    write.add_argument("--force", action="store_true", help="overwrite an existing file")


def _load(path: str | None):
    from engine.config import load_config
    from engine.settings import SettingsError

    try:
        return load_config(path)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _differences(a: object, b: object, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two plain mappings."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _differences(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [prefix.rstrip(".")]


def _resolved(config):
    """Plain mapping with every catalogue indicator's effective settings (listed or default)."""
    from engine.settings import to_mapping

    data = config.to_dict()
    data.pop("provenance", None)  # where the file came from, not a setting
    data["indicators"] = {k: to_mapping(config.indicator(k)) for k in config.build_catalogue()}
    return data


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def provenance_lines(prov) -> list[str]:
    """``[provenance]`` as printable lines (none when the file records no provenance)."""
    if prov.empty:
        return ["provenance: none recorded (not saved from the threshold lab)"]
    out = [f"provenance: {prov.source or 'unknown source'}"]
    if prov.saved_at:
        out.append(f"  saved at: {prov.saved_at}" + (f" by {prov.saved_by}" if prov.saved_by else ""))
    if prov.data_sha256:
        out.append(f"  data sha256: {prov.data_sha256}")
    for role, name in sorted(prov.data_files.items()):
        out.append(f"  data file ({role}): {name}")
    for key, value in prov.chosen.items():
        out.append(f"  chosen: {key} = {_number(value)}")
    for key, value in prov.targets.items():
        out.append(f"  target: {key} = {_number(value)}")
    for key, value in prov.simulated.items():
        out.append(f"  simulated: {key} = {_number(value)}")
    if prov.simulation:
        out.append("  simulation: " + ", ".join(f"{k}={_number(v)}" for k, v in prov.simulation.items()))
    return out


def run(args: argparse.Namespace) -> int:
    from engine.config import Config
    from engine.evaluate.configdoc import render_config

    if args.action == "show":
        sys.stdout.write(render_config(config_from_args(args), all_indicators=not args.configured_only))
        return 0
    if args.action == "check":
        config = _load(args.file)
        changed = _differences(_resolved(config), _resolved(Config()))
        print(f"{args.file}: valid; {len(changed)} setting(s) differ from the defaults")
        for key in changed:
            print(f"  {key}")
        for line in provenance_lines(config.provenance):
            print(line)
        return 0
    path = Path(args.file)
    if path.exists() and not args.force:
        raise CliError(f"{path} exists (use --force to overwrite)")
    path.write_text(render_config(Config()), encoding="utf-8")
    print(f"default configuration written to {path}")
    return 0
