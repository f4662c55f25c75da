"""``wardwatch arl``: average run length of a chart, in control or under a shift."""

from __future__ import annotations

import argparse
import json

from engine.arl.results import ArlSettings
from engine.arl.spec import ChartSpec, SpecError, chart_arl
from engine.cli import CliError
from engine.cli.settings_args import Option, add_field_options, settings_from_options

HELP = "Average run length (periods) of a Shewhart, CUSUM or EWMA chart, exact where possible."


#: ChartSpec fields as options (default and help from the dataclass); ``h`` and ``L`` are the
#: thresholds that ``wardwatch calibrate`` finds rather than takes.
CHART_OPTIONS: tuple[Option, ...] = (
    Option("chart", required=True),
    Option("family"),
    Option("sided"),
    Option("direction"),
    Option("k"),
    Option("k_down"),
    Option("h"),
    Option("L", flags=("--L", "--limit")),
    Option("lam", flags=("--lambda",)),
    Option("mu0"),
    Option("sigma"),
    Option("rate_ratio", flags=("--rr",), dest="rr"),
    Option("p0"),
    Option("n"),
    Option("odds_ratio", flags=("--or",)),
    Option("alpha"),
    Option("signal"),
    Option("head_start"),
    Option("m"),
    Option("method", choices=("auto", "integral", "markov")),
)
THRESHOLD_FIELDS = ("h", "L")
#: ArlSettings fields as options.
SIMULATION_OPTIONS: tuple[Option, ...] = (
    Option("replicates", help="simulation replicates (negbin)"),
    Option("seed"),
)


def _chart_options(threshold: bool) -> list[Option]:
    return [o for o in CHART_OPTIONS if threshold or o.field not in THRESHOLD_FIELDS]


def add_chart_arguments(parser: argparse.ArgumentParser, threshold: bool = True) -> None:
    """Add ``--chart``, ``--family`` and the chart parameters to ``parser`` (from :class:`ChartSpec`)."""
    g = parser.add_argument_group("chart")
    add_field_options(g, ChartSpec, _chart_options(threshold))
    add_field_options(g, ArlSettings, SIMULATION_OPTIONS)
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of text")


def spec_from_args(args: argparse.Namespace) -> ChartSpec:
    """Build the :class:`ChartSpec` described by parsed arguments (``h``/``L`` None when not taken)."""
    threshold = hasattr(args, "h")
    values = {o.field: getattr(args, o.attribute) for o in _chart_options(threshold)}
    return ChartSpec(**values)


def settings_from_args(args: argparse.Namespace) -> ArlSettings:
    """Numerical settings with the simulation size and seed from the command line."""
    if args.replicates < 2:
        raise CliError("--replicates must be at least 2")
    return settings_from_options(args, ArlSettings, SIMULATION_OPTIONS)


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
