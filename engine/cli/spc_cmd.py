"""``wardwatch spc``: Making Data Count control charts for any measure in a CSV or Parquet file.

Charts (``--chart``, default ``xmr``): ``xmr`` (Making Data Count XmR of ``--value``), ``run`` (median
and Anhoej rules, no limits), ``c`` / ``u`` / ``p`` and Laney ``up`` / ``pp`` (counts in
``--numerator`` over ``--denominator``, qicharts2 formulas), ``t`` (time between events, qicharts2's
T chart) and ``g`` (opportunities between events, qicharts2's g chart). XmR, run, T and g charts take
``--value``, or ``--numerator`` / ``--denominator`` to chart their ratio. Making Data Count rules and
icons apply on every chart with limits.

Output
------
* **Points** (one row per input row): ``group, date, value, mean, lpl, upl, lower_2sigma,
  upper_2sigma, point_type, rule, rebase_group, short_group, runs_signal``. ``point_type`` and
  ``rule`` are empty for a missing value (and on run charts, which have no limits);
  ``runs_signal`` is the Anhoej runs signal (qicharts2: longest run or too few crossings) of the
  point's rebase group, around the chart's centre line. Written to ``--out`` (CSV, or Parquet when the name ends in ``.parquet``),
  or as CSV to standard output when ``--out`` is not given.
* **Summary** (one row per group): ``group, n, n_rebase_groups, mean, lpl, upl`` (of the current
  rebase group), ``short_group``, counts of special-cause points, ``last_date``,
  ``last_point_type``, ``variation_icon`` and ``assurance_icon``, then ``chart``, ``runs_signal``,
  ``longest_run``, ``longest_run_max``, ``crossings`` and ``crossings_min`` (Anhoej, current group). Written next to ``--out`` with
  ``_summary`` before the suffix (``chart.csv`` -> ``chart_summary.csv``) and printed as a table on
  standard output; without ``--out`` it is printed on standard error.

Missing or non-numeric values are charted as missing (dropped from the calculations, kept in the
output); non-numeric values make the exit code 1. Dates may be ISO (``2024-03-31``) or
``dd/mm/yyyy``; the date column may also be a Parquet date or datetime.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

from engine.charts import codes
from engine.charts.anhoej import RunsResult, anhoej_runs, run_chart
from engine.charts.attribute import attribute_chart
from engine.charts.layout import build_layout
from engine.charts.rare import g_chart, t_chart_with_runs
from engine.charts.result import ChartResult
from engine.charts.settings import AttributeSettings, GSettings, XmRSettings
from engine.charts.xmr import xmr_chart
from engine.cli import CliError

HELP = "Making Data Count control charts (XmR, run, c, u, p, u', p', T, g) for any measure in a file."
CHARTS = ("xmr", "run", "c", "u", "p", "up", "pp", "t", "g")
#: charts of counts over a denominator (``--numerator`` / ``--denominator``)
ATTRIBUTE_CHARTS = ("c", "u", "p", "up", "pp")

_TRUE = {"1", "true", "t", "yes", "y"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="CSV or Parquet file, one row per date (and group)")
    parser.add_argument("--date", required=True, help="date column (ISO or dd/mm/yyyy)")
    parser.add_argument(
        "--chart",
        choices=CHARTS,
        default="xmr",
        help="chart type (default xmr): xmr, run, c, u, p, up (Laney u'), pp (Laney p'), t (time between "
        "events), g (opportunities between events)",
    )
    parser.add_argument("--value", help="value column (xmr, run, t, g; or use --numerator/--denominator)")
    parser.add_argument("--numerator", metavar="COL", help="count column (c, u, p, up, pp; or a ratio's top)")
    parser.add_argument(
        "--denominator",
        metavar="COL",
        help="exposure / subgroup size column (u, p, up, pp; or a ratio's bottom)",
    )
    parser.add_argument("--group", help="column identifying separate charts (e.g. ward)")
    parser.add_argument(
        "--improvement",
        choices=("increase", "decrease", "neutral"),
        default="increase",
        help="which direction is improvement (default increase, as NHSRplotthedots)",
    )
    parser.add_argument("--target", type=float, help="target for the assurance icon")
    parser.add_argument(
        "--fix-after", type=int, metavar="N", help="fix limits on the first N points of each group (N >= 12)"
    )
    parser.add_argument(
        "--rebase-col",
        metavar="COL",
        help="column that is true/1 on the first date of each new baseline (limits recalculated from there)",
    )
    parser.add_argument(
        "--no-screen-outliers",
        action="store_true",
        help="do not screen large moving ranges (reproduces the MDC Excel tool)",
    )
    parser.add_argument("--run-length", type=int, default=7, help="points on one side for a run (default 7)")
    parser.add_argument("--trend-length", type=int, default=7, help="points for a trend (default 7)")
    parser.add_argument(
        "--multiplier",
        default=None,
        help="limit multiplier on the mean moving range: ptd (2.66, default), qic (3/1.128, default for t) "
        "or a number",
    )
    parser.add_argument(
        "--two-in-three-beyond-3sigma",
        action="store_true",
        help="count points beyond 3 sigma in the 2-of-3 rule (MDC Excel since 2023)",
    )
    parser.add_argument(
        "--min-points", type=int, default=13, help="groups with fewer points are flagged short (default 13)"
    )
    parser.add_argument("--out", metavar="FILE", help="output file (.csv or .parquet); default CSV to stdout")


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise CliError(f"input file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None


def parse_dates(col: pl.Series) -> pl.Series:
    """Dates from a Date / Datetime column or strings in ISO or dd/mm/yyyy form."""
    if col.dtype == pl.Date:
        return col
    if isinstance(col.dtype, pl.Datetime):
        return col.dt.date()
    text = col.cast(pl.String).str.strip_chars()
    iso = text.str.to_date("%Y-%m-%d", strict=False)
    uk = text.str.to_date("%d/%m/%Y", strict=False)
    out = iso.fill_null(uk)
    bad = out.is_null() & text.is_not_null() & (text != "")
    if bad.any():
        example = text.filter(bad)[0]
        raise CliError(f"cannot read date {example!r} in column {col.name!r} (use YYYY-MM-DD or dd/mm/yyyy)")
    if out.is_null().any():
        raise CliError(f"column {col.name!r} has empty dates")
    return out


def _settings(args: argparse.Namespace) -> XmRSettings:
    multiplier: str | float = args.multiplier or ("qic" if args.chart == "t" else "ptd")
    if multiplier not in ("ptd", "qic"):
        try:
            multiplier = float(multiplier)
        except ValueError:
            raise CliError("--multiplier must be ptd, qic or a number") from None
    try:
        return XmRSettings(
            screen_outliers=not args.no_screen_outliers,
            multiplier=multiplier,  # type: ignore[arg-type]
            run_length=args.run_length,
            trend_length=args.trend_length,
            two_in_three_beyond_3sigma=args.two_in_three_beyond_3sigma,
            fix_after_n_points=args.fix_after,
            min_points=args.min_points,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _summary_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_summary{out.suffix}")


def _write(frame: pl.DataFrame, path: Path) -> None:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame.write_parquet(path)
        else:
            frame.write_csv(path)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc}") from None


def _table(summary: pl.DataFrame) -> str:
    """The summary's key columns as a readable text table."""
    cols = [
        "group",
        "n",
        "mean",
        "lpl",
        "upl",
        "last_date",
        "last_point_type",
        "variation_icon",
        "assurance_icon",
        "chart",
        "runs_signal",
    ]
    with pl.Config(
        tbl_rows=100,
        tbl_cols=len(cols),
        tbl_width_chars=200,
        fmt_str_lengths=40,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        float_precision=4,
    ):
        return str(summary.select(cols))


def _numeric(frame: pl.DataFrame, col: str) -> tuple[pl.Series, int]:
    """A column as floats (thousands separators dropped) and the number of non-numeric entries."""
    raw = frame[col]
    if raw.dtype == pl.String:
        text = raw.str.strip_chars()
        value = text.str.replace_all(",", "").cast(pl.Float64, strict=False)
        return value.fill_nan(None), int((value.is_null() & text.is_not_null() & (text != "")).sum())
    return raw.cast(pl.Float64, strict=False).fill_nan(None), 0


def _columns(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    """``(value, numerator, denominator)`` columns the chart needs; a clear error when one is missing."""
    chart = args.chart
    if chart in ATTRIBUTE_CHARTS:
        num = args.numerator or args.value
        if num is None:
            raise CliError(f"a {chart} chart needs --numerator (the counts)")
        if chart != "c" and not args.denominator:
            raise CliError(f"a {chart} chart needs --denominator (exposure or subgroup size)")
        return None, num, args.denominator if chart != "c" else None
    if args.value and (args.numerator or args.denominator):
        raise CliError("give --value or --numerator/--denominator, not both")
    if args.value:
        return args.value, None, None
    if args.numerator:
        return None, args.numerator, args.denominator
    if args.denominator:
        raise CliError("--denominator needs --numerator")
    raise CliError(f"a {chart} chart needs --value (or --numerator and --denominator)")


def _chart(
    args: argparse.Namespace, y: np.ndarray, n: np.ndarray | None, groups: np.ndarray | None
) -> tuple[ChartResult | None, np.ndarray, RunsResult]:
    """The chart (None for a run chart), its centre line and its Anhoej runs."""
    chart = args.chart
    try:
        if chart in ATTRIBUTE_CHARTS:
            settings = AttributeSettings(
                kind=chart,
                screen_outliers=not args.no_screen_outliers,
                fix_after_n_points=args.fix_after,
                run_length=args.run_length,
                trend_length=args.trend_length,
                two_in_three_beyond_3sigma=args.two_in_three_beyond_3sigma,
                min_points=args.min_points,
            )
            attr = attribute_chart(
                y, n, args.improvement, groups=groups, target=args.target, settings=settings
            )
            return attr, attr.mean, attr.runs
        value = y if n is None else np.where(n > 0, y / np.where(n > 0, n, 1.0), np.nan)
        if chart == "run":
            centre, runs = run_chart(value, groups=groups, fix_after_n_points=args.fix_after)
            return None, centre, runs
        if chart in ("t", "g") and np.nanmin(value, initial=0.0) < 0:
            raise CliError(f"a {chart} chart needs non-negative times or counts between events")
        if chart == "t":
            t_res = t_chart_with_runs(
                value, args.improvement, groups=groups, target=args.target, settings=_settings(args)
            )
            return t_res, t_res.mean, t_res.runs
        if chart == "g":
            g_settings = GSettings(
                fix_after_n_points=args.fix_after,
                run_length=args.run_length,
                trend_length=args.trend_length,
                min_points=args.min_points,
            )
            g_res = g_chart(value, args.improvement, groups=groups, target=args.target, settings=g_settings)
            return g_res, g_res.mean, g_res.runs
        res = xmr_chart(value, args.improvement, groups=groups, target=args.target, settings=_settings(args))
        return res, res.mean, anhoej_runs(res.value, res.mean, groups=groups)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    if args.chart == "xmr":
        _settings(args)  # settings errors before reading the file
    value_col, num_col, den_col = _columns(args)
    frame = _read(Path(args.input))
    needed = [args.date] + [c for c in (value_col, num_col, den_col, args.group, args.rebase_col) if c]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise CliError(f"column(s) not found: {', '.join(missing)} (have: {', '.join(frame.columns)})")
    if frame.height == 0:
        raise CliError("the input has no rows")

    group = (
        frame[args.group].cast(pl.String).fill_null("")
        if args.group
        else pl.repeat("all", frame.height, eager=True)
    )
    value, n_bad = _numeric(frame, value_col or num_col)  # type: ignore[arg-type]
    bad_cols = [value_col or num_col] if n_bad else []
    columns = {"group": group, "date": parse_dates(frame[args.date]), "value": value}
    if den_col:
        den, n_bad_den = _numeric(frame, den_col)
        n_bad += n_bad_den
        bad_cols += [den_col] if n_bad_den else []
        columns["denominator"] = den
    data = pl.DataFrame(columns).with_row_index("_row")
    if args.rebase_col:
        marker = frame[args.rebase_col].cast(pl.String).str.strip_chars().str.to_lowercase()
        data = data.with_columns(_rebase=marker.is_in(list(_TRUE)).fill_null(False))
    else:
        data = data.with_columns(_rebase=pl.lit(False))
    data = data.sort("group", "date")
    dups = data.filter(pl.struct("group", "date").is_duplicated())
    if dups.height:
        raise CliError(f"duplicate date {dups['date'][0]} in group {dups['group'][0]!r}")

    # Dense (S, T) layout: one row per group, columns = position of the date within the group.
    keys = data["group"].unique(maintain_order=True)
    s_idx = data["group"].rank("dense").cast(pl.Int64).to_numpy() - 1
    data = data.with_columns(_t=pl.int_range(pl.len()).over("group"))
    t_idx = data["_t"].to_numpy()
    s_count, t_count = len(keys), int(t_idx.max()) + 1
    y = np.full((s_count, t_count), np.nan)
    y[s_idx, t_idx] = data["value"].fill_null(np.nan).to_numpy()
    n = None
    if den_col:
        n = np.full((s_count, t_count), np.nan)
        n[s_idx, t_idx] = data["denominator"].fill_null(np.nan).to_numpy()
    rebase = np.zeros((s_count, t_count), dtype=bool)
    rebase[s_idx, t_idx] = data["_rebase"].to_numpy()
    groups = np.cumsum(rebase, axis=1) if args.rebase_col else None

    res, centre, runs = _chart(args, y, n, groups)
    charted = res.value if res is not None else (y if n is None else np.where(n > 0, y / n, np.nan))

    def at(a: np.ndarray) -> np.ndarray:
        return a[s_idx, t_idx]

    nan_grid = np.full((s_count, t_count), np.nan)
    empty = np.full((s_count, t_count), "", dtype=object)
    points = pl.DataFrame(
        {
            "group": data["group"],
            "date": data["date"],
            "value": at(charted),
            "mean": at(centre),
            "lpl": at(res.lpl if res is not None else nan_grid),
            "upl": at(res.upl if res is not None else nan_grid),
            "lower_2sigma": at(res.lower_2sigma if res is not None else nan_grid),
            "upper_2sigma": at(res.upper_2sigma if res is not None else nan_grid),
            "point_type": at(res.point_type_labels() if res is not None else empty).astype(str),
            "rule": at(res.rule_labels() if res is not None else empty).astype(str),
            "rebase_group": at(res.rebase_group if res is not None else _rebase_ids(groups, y)),
            "short_group": at(res.short_group if res is not None else np.zeros(y.shape, dtype=bool)),
            "runs_signal": at(runs.runs_signal),
        }
    ).with_columns(
        pl.col(c).fill_nan(None) for c in ("value", "mean", "lpl", "upl", "lower_2sigma", "upper_2sigma")
    )

    dates = np.full((s_count, t_count), np.datetime64("NaT"), dtype="datetime64[D]")
    dates[s_idx, t_idx] = data["date"].to_numpy().astype("datetime64[D]")
    rows = np.arange(s_count)
    observed = ~np.isnan(charted)
    last_index = np.where(observed, np.arange(t_count), -1).max(axis=1)
    last = np.maximum(last_index, 0)
    has = last_index >= 0

    def last_of(a: np.ndarray) -> np.ndarray:
        return np.where(has, a[rows, last], np.nan if a.dtype.kind == "f" else 0)

    pt = res.point_type if res is not None else np.full(y.shape, codes.MISSING_POINT, dtype=np.int8)
    summary = pl.DataFrame(
        {
            "group": keys.to_numpy(),
            "n": observed.sum(axis=1),
            "n_rebase_groups": np.bincount(build_layout(observed, groups).seg_series, minlength=s_count),
            "mean": last_of(centre),
            "lpl": last_of(res.lpl) if res is not None else np.full(s_count, np.nan),
            "upl": last_of(res.upl) if res is not None else np.full(s_count, np.nan),
            "short_group": np.where(has, res.short_group[rows, last], False)
            if res is not None
            else has & False,
            "special_cause_improvement": (pt == codes.IMPROVEMENT).sum(axis=1),
            "special_cause_concern": (pt == codes.CONCERN).sum(axis=1),
            "special_cause_neutral": ((pt == codes.NEUTRAL_HIGH) | (pt == codes.NEUTRAL_LOW)).sum(axis=1),
            "last_date": np.where(has, dates[rows, last], np.datetime64("NaT")),
            "last_point_type": codes.labels(
                np.where(has, pt[rows, last], -1), codes.POINT_TYPE_LABELS
            ).astype(str),
            "variation_icon": res.variation_labels() if res is not None else np.full(s_count, None),
            "assurance_icon": res.assurance_labels() if res is not None else np.full(s_count, None),
            "chart": np.full(s_count, args.chart),
            "runs_signal": np.where(has, runs.runs_signal[rows, last], False),
            "longest_run": last_of(runs.longest_run),
            "longest_run_max": last_of(runs.longest_run_max),
            "crossings": last_of(runs.crossings),
            "crossings_min": last_of(runs.crossings_min),
        },
        schema_overrides={"variation_icon": pl.String, "assurance_icon": pl.String},
    ).with_columns(pl.col(c).fill_nan(None) for c in ("mean", "lpl", "upl"))

    if args.out:
        out = Path(args.out)
        _write(points, out)
        _write(summary, _summary_path(out))
        print(_table(summary))
        print(f"wrote {points.height} points to {out} and {summary.height} groups to {_summary_path(out)}")
    else:
        points.write_csv(sys.stdout)
        print(_table(summary), file=sys.stderr)
    if n_bad:
        print(
            f"wardwatch spc: {n_bad} non-numeric value(s) in {', '.join(repr(c) for c in bad_cols)} "
            "charted as missing",
            file=sys.stderr,
        )
        return 1
    return 0


def _rebase_ids(groups: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """Rebase-group ids (0 without rebasing) for charts without a ChartResult."""
    return np.zeros(y.shape, dtype=np.int32) if groups is None else groups.astype(np.int32)
