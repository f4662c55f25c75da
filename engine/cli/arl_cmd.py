"""``wardwatch arl``: average run length of a chart, in control or under a shift."""

from __future__ import annotations

import argparse
import json

from engine.arl.spec import SpecError, chart_arl
from engine.cli import CliError
from engine.cli._chart_args import add_chart_arguments, settings_from_args, spec_from_args

HELP = "Average run length (periods) of a Shewhart, CUSUM or EWMA chart, exact where possible."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the chart options and the shift."""
    add_chart_arguments(parser)
    g = parser.add_argument_group("process state (default: in control)")
    g.add_argument(
        "--shift",
        type=float,
        help="normal: mean shift in σ; poisson/negbin: rate ratio μ/μ0; binomial: odds ratio",
    )
    g.add_argument("--mu", type=float, help="true mean (normal: in data units; counts: per period)")
    g.add_argument("--p", type=float, help="true probability (binomial)")


def run(args: argparse.Namespace) -> int:
    """Print the ARL (text, or JSON with ``arl``, ``method``, ``se``)."""
    spec = spec_from_args(args)
    try:
        res = chart_arl(spec, shift=args.shift, mu=args.mu, p=args.p, settings=settings_from_args(args))
    except SpecError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        out = {"arl": res.arl, "method": res.method, "se": res.se}
        if spec.family in ("poisson", "binomial") and spec.chart == "cusum":
            k_up, k_dn = spec.reference_values()
            out["k"] = k_up if spec.sided == "two" or spec.direction == "up" else k_dn
            if spec.sided == "two":
                out["k_down"] = k_dn
        print(json.dumps(out))
    else:
        se = f" (se {res.se:.3g})" if res.se is not None else ""
        print(f"ARL {res.arl:.6g} periods [{res.method}]{se}")
    return 0
