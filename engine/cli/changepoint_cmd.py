"""``wardwatch changepoints``: retrospective change points of every ward x indicator series.

Reads an observations file (CSV or Parquet, as ``wardwatch validate`` accepts), segments each
series with exact PELT (Poisson-with-exposure cost for counts, binomial for proportions, normal for
measures) and writes one row per change point: ``ward_id, indicator, cadence, period`` (first period
of the new segment), ``rate_before, rate_after, effect`` (rate ratio, or mean shift in sd for
measures) and ``rebase`` (a proposed rebase point). CSV to ``--out`` or standard output; ``--json``
prints a JSON document instead. Exit 1 when rows were rejected by the loader.

Retrospective only: change points use data after them and never raise alarms. ``--upto DATE``
ignores everything after DATE (onset dating as of an alarm's period).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import polars as pl

from engine.changepoint import ChangePointSettings, detect_panel
from engine.cli import CliError
from engine.cli.settings_args import add_field_options, settings_from_options
from engine.panel import build_panel

HELP = "Retrospective change points (exact PELT) for every ward and indicator in an observations file."


#: ChangePointSettings fields offered as options (default, help and range from the dataclass).
SETTINGS_OPTIONS = (
    "penalty",
    "penalty_value",
    "min_size",
    "dispersion",
    "rebase_ratio",
    "sigma",
    "rebase_shift_sd",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("observations", metavar="OBSERVATIONS", help="observations file (CSV or Parquet)")
    add_field_options(parser.add_argument_group("change points"), ChangePointSettings, SETTINGS_OPTIONS)
    parser.add_argument("--upto", metavar="DATE", help="ignore data after this ISO date")
    parser.add_argument("--out", metavar="FILE", help="write the change points as CSV here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of CSV")


def _changes(observations: pl.DataFrame, cadence: str, settings: ChangePointSettings, upto: dt.date | None):
    obs = observations.filter(pl.col("period") <= upto) if upto is not None else observations
    if obs.height == 0:
        return None
    panel = build_panel(obs, cadence)  # type: ignore[arg-type]
    res = detect_panel(panel, settings)
    rows, cols = np.nonzero(res.starts)
    return pl.DataFrame(
        {
            "ward_id": panel.ward_id[rows],
            "indicator": panel.indicator[rows],
            "cadence": [cadence] * rows.size,
            "period": panel.periods[cols].astype("datetime64[D]"),
            "rate_before": res.segment_rate[rows, cols - 1],
            "rate_after": res.segment_rate[rows, cols],
            "effect": res.effect[rows, cols],
            "rebase": res.rebase[rows, cols],
        }
    ).with_columns(pl.col("period").cast(pl.Date))


def run(args: argparse.Namespace) -> int:
    from engine.io import FatalInputError, read_observations

    settings = settings_from_options(args, ChangePointSettings, SETTINGS_OPTIONS)
    upto = None
    if args.upto:
        try:
            upto = dt.date.fromisoformat(args.upto)
        except ValueError:
            raise CliError(f"--upto must be an ISO date (YYYY-MM-DD), got {args.upto!r}") from None
    try:
        read = read_observations(args.observations)
    except FatalInputError as exc:
        raise CliError(str(exc)) from None
    frames = []
    for cadence in ("weekly", "monthly"):
        keys = [k for k, c in read.cadence.items() if c == cadence]
        if keys:
            part = _changes(
                read.observations.filter(pl.col("indicator").is_in(keys)), cadence, settings, upto
            )
            if part is not None:
                frames.append(part)
    table = (
        pl.concat(frames).sort("ward_id", "indicator", "period")
        if frames
        else pl.DataFrame(
            schema={
                "ward_id": pl.String,
                "indicator": pl.String,
                "cadence": pl.String,
                "period": pl.Date,
                "rate_before": pl.Float64,
                "rate_after": pl.Float64,
                "effect": pl.Float64,
                "rebase": pl.Boolean,
            }
        )
    )
    if args.json:
        doc = {
            "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__},
            "upto": args.upto,
            "change_points": [
                {
                    **r,
                    "period": r["period"].isoformat(),
                    "effect": None if not np.isfinite(r["effect"]) else r["effect"],
                }
                for r in table.to_dicts()
            ],
        }
        print(json.dumps(doc, indent=2))
    elif args.out:
        table.write_csv(Path(args.out))
        print(
            f"{table.height} change points ({int(table['rebase'].sum())} proposed rebase points) -> {args.out}"
        )
    else:
        table.write_csv(sys.stdout)
    return 1 if read.rejected.height else 0
