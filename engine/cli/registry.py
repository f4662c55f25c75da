"""The sub-commands of ``wardwatch``: name, one-line help and the module that implements each.

The one-line help lives here, not only in the command module, so ``wardwatch --help`` can list every
command without importing any of them (their imports pull in numpy, polars, numba...). Each module
also exposes the same line as ``HELP`` (tests/test_cli_entry.py checks the two agree).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One sub-command: its name on the command line, one line of help and its module (imported lazily)."""

    name: str
    module: str
    help: str


#: Every sub-command, in the order ``wardwatch --help`` lists them.
REGISTRY: tuple[Command, ...] = (
    Command(
        "validate",
        "engine.cli.validate_cmd",
        "Check observations, ward register and events against the data contract; list every rejected row.",
    ),
    Command(
        "import-mhsds",
        "engine.cli.mhsds_cmd",
        "Convert NHS Digital MHSDS monthly provider files (restraint, bed days, detentions) to the data "
        "contract.",
    ),
    Command(
        "aggregate",
        "engine.cli.aggregate_cmd",
        "Aggregate event-level exports (one row per incident) into ward observations (see docs/aggregate.md).",
    ),
    Command(
        "synth",
        "synthetic.cli",
        "Generate a synthetic trust with injected closed-culture episodes, decoys and ground truth.",
    ),
    Command(
        "spc",
        "engine.cli.spc_cmd",
        "Making Data Count control charts (XmR, run, c, u, p, u', p', T, g) for any measure in a file.",
    ),
    Command(
        "arl",
        "engine.cli.arl_cmd",
        "Average run length (periods) of a Shewhart, CUSUM or EWMA chart, exact where possible.",
    ),
    Command(
        "calibrate",
        "engine.cli.calibrate_cmd",
        "Threshold (CUSUM h, EWMA/Shewhart L) giving a target in-control ARL.",
    ),
    Command(
        "calibrate-alerts",
        "engine.cli.calibrate_alerts_cmd",
        "Calibrate alert thresholds so false concern alerts meet the trust-wide target (simulation).",
    ),
    Command(
        "changepoints",
        "engine.cli.changepoint_cmd",
        "Retrospective change points (exact PELT) for every ward and indicator in an observations file.",
    ),
    Command(
        "score",
        "engine.cli.score_cmd",
        "Score ward data: ward levels, alerts with explanations, per-series statistics.",
    ),
    Command(
        "alerts",
        "engine.cli.alerts_cmd",
        "Triage alerts in the store: list, show, ack, investigate, note, close, reopen, assign.",
    ),
    Command(
        "config",
        "engine.cli.config_cmd",
        "Show the full configuration with defaults, check a configuration file, or write the defaults.",
    ),
    Command(
        "evaluate",
        "engine.cli.evaluate_cmd",
        "Evaluate results against truth.csv: detection delays, false alerts, decoys, methods vs oracle.",
    ),
    Command(
        "sweep",
        "engine.cli.sweep_cmd",
        "Sweep settings: score + evaluate over a grid, tidy table and trade-off curve (resumable).",
    ),
    Command(
        "equal-fa",
        "engine.cli.equal_fa_cmd",
        "Compare settings variants at equal false-alarm rates on trusts with known truth (issue 26).",
    ),
    Command(
        "brief",
        "dashboard.cli_brief",
        "Write a printable one-page briefing per ward (PDF via WeasyPrint, and HTML) from a results folder.",
    ),
    Command(
        "dashboard",
        "dashboard.cli_dashboard",
        "Serve the dashboard (overview, inbox, ward detail, briefings) for a data folder on localhost.",
    ),
    Command(
        "demo",
        "engine.cli.demo_cmd",
        "Generate a synthetic trust, score it and serve the dashboard (the README's first command).",
    ),
)

#: sub-command name -> its :class:`Command`.
BY_NAME: dict[str, Command] = {c.name: c for c in REGISTRY}
