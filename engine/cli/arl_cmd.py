"""``wardwatch arl``: average run length of a chart, in control or under a shift."""

from __future__ import annotations

import argparse
import json

from engine.arl.results import ArlSettings
from engine.arl.spec import ChartSpec, SpecError, chart_arl
from engine.cli import CliError

HELP = "Average run length (periods) of a Shewhart, CUSUM or EWMA chart, exact where possible."


def add_chart_arguments(parser: argparse.ArgumentParser, threshold: bool = True) -> None:
    """Add ``--chart``, ``--family`` and the chart parameters to ``parser``."""
    g = parser.add_argument_group("chart")
    g.add_argument("--chart", required=True, choices=["shewhart", "cusum", "ewma"], help="chart type")
    g.add_argument(
        "--family",
        default="normal",
        choices=["normal", "poisson", "binomial", "negbin"],
        help="data family (default normal; shewhart/ewma: normal only; negbin: cusum, by simulation)",
    )
    g.add_argument(
        "--sided", default="two", choices=["one", "two"], help="one chart or both directions (default two)"
    )
    g.add_argument(
        "--direction",
        default="up",
        choices=["up", "down"],
        help="direction of a one-sided chart (default up)",
    )
    g.add_argument("--k", type=float, help="CUSUM reference value (σ units; events per period for counts)")
    g.add_argument("--k-down", type=float, help="reference value of the lower chart (two-sided count CUSUM)")
    if threshold:
        g.add_argument(
            "--h",
            type=float,
            help="CUSUM decision interval (σ units; events for poisson/binomial; LLR for negbin)",
        )
        g.add_argument("--L", "--limit", dest="L", type=float, help="EWMA/Shewhart limit multiplier (σ)")
    g.add_argument("--lambda", dest="lam", type=float, help="EWMA smoothing constant λ in (0, 1]")
    g.add_argument(
        "--mu0", type=float, help="in-control mean per period (counts; normal: in-control mean, default 0)"
    )
    g.add_argument(
        "--sigma", type=float, default=1.0, help="standard deviation of normal observations (default 1)"
    )
    g.add_argument(
        "--rr", type=float, help="design rate ratio μ1/μ0 (poisson: sets k; negbin: the LLR alternative)"
    )
    g.add_argument("--p0", type=float, help="in-control probability (binomial)")
    g.add_argument("--n", type=int, default=1, help="trials per period (binomial; 1 = Bernoulli, default 1)")
    g.add_argument("--or", dest="odds_ratio", type=float, help="design odds ratio (binomial: sets k)")
    g.add_argument("--alpha", type=float, help="negative-binomial dispersion, Var = μ + αμ²")
    g.add_argument(
        "--signal",
        default="geq",
        choices=["geq", "gt"],
        help="count CUSUM signal rule: S >= h (Lucas, default) or S > h",
    )
    g.add_argument("--head-start", type=float, default=0.0, help="CUSUM start value (FIR, default 0)")
    g.add_argument(
        "--m", type=int, default=20, help="lattice 1/m used to round a derived count k (default 20)"
    )
    g.add_argument(
        "--method",
        default="auto",
        choices=["auto", "integral", "markov"],
        help="force the integral-equation or Markov-chain method (normal CUSUM, EWMA)",
    )
    g.add_argument(
        "--replicates", type=int, default=ArlSettings.replicates, help="simulation replicates (negbin)"
    )
    g.add_argument("--seed", type=int, default=ArlSettings.seed, help="simulation seed")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of text")


def spec_from_args(args: argparse.Namespace) -> ChartSpec:
    """Build the :class:`ChartSpec` described by parsed arguments."""
    return ChartSpec(
        chart=args.chart,
        family=args.family,
        sided=args.sided,
        direction=args.direction,
        k=args.k,
        k_down=args.k_down,
        h=getattr(args, "h", None),
        lam=args.lam,
        L=getattr(args, "L", None),
        mu0=args.mu0,
        sigma=args.sigma,
        rate_ratio=args.rr,
        p0=args.p0,
        n=args.n,
        odds_ratio=args.odds_ratio,
        alpha=args.alpha,
        signal=args.signal,
        head_start=args.head_start,
        m=args.m,
        method=args.method,
    )


def settings_from_args(args: argparse.Namespace) -> ArlSettings:
    """Numerical settings with the simulation size and seed from the command line."""
    if args.replicates < 2:
        from engine.cli import CliError

        raise CliError("--replicates must be at least 2")
    return ArlSettings(replicates=args.replicates, seed=args.seed)


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
