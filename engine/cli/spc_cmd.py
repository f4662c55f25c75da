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
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from engine.cli.settings_args import Option, add_field_options, settings_from_options
from engine.contract.dates import INPUT_DATE_FORMATS

HELP = "Making Data Count control charts (XmR, run, c, u, p, u', p', T, g) for any measure in a file."
CHARTS = ("xmr", "run", "c", "u", "p", "up", "pp", "t", "g")
#: charts of counts over a denominator (``--numerator`` / ``--denominator``)
ATTRIBUTE_CHARTS = ("c", "u", "p", "up", "pp")

_TRUE = {"1", "true", "t", "yes", "y"}

#: Settings fields shared by the charts' settings classes (XmR, attribute, g), as options: default,
#: help and range from :class:`XmRSettings`.
RULE_OPTIONS: tuple[str | Option, ...] = (
    Option(
        "screen_outliers",
        flags=("--no-screen-outliers",),
        dest="no_screen_outliers",
        negate=True,
        help="do not screen large moving ranges (reproduces the MDC Excel tool)",
    ),
    "run_length",
    "trend_length",
    "two_in_three_beyond_3sigma",
    Option(
        "fix_after_n_points",
        flags=("--fix-after",),
        dest="fix_after",
        metavar="N",
        help="fix limits on the first N points of each group",
    ),
    "min_points",
)


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
        "--rebase-col",
        metavar="COL",
        help="column that is true/1 on the first date of each new baseline (limits recalculated from there)",
    )
    add_field_options(parser.add_argument_group("Making Data Count rules"), XmRSettings, RULE_OPTIONS)
    parser.add_argument(
        "--multiplier",
        default=None,
        help="limit multiplier on the mean moving range: ptd (2.66, default), qic (3/1.128, default for t) "
        "or a number",
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
    iso_first, *others = INPUT_DATE_FORMATS
    out = text.str.to_date(iso_first, strict=False)
    for fmt in others:
        out = out.fill_null(text.str.to_date(fmt, strict=False))
    bad = out.is_null() & text.is_not_null() & (text != "")
    if bad.any():
        example = text.filter(bad)[0]
        raise CliError(f"cannot read date {example!r} in column {col.name!r} (use YYYY-MM-DD or dd/mm/yyyy)")
    if out.is_null().any():
        raise CliError(f"column {col.name!r} has empty dates")
    return out


def _rule_options(cls: type) -> list[str | Option]:
    """The :data:`RULE_OPTIONS` that settings class ``cls`` has fields for."""
    names = {f.name for f in dataclasses.fields(cls)}
    return [o for o in RULE_OPTIONS if (o.field if isinstance(o, Option) else o) in names]


def _settings(args: argparse.Namespace) -> XmRSettings:
    multiplier: str | float = args.multiplier or ("qic" if args.chart == "t" else "ptd")
    if multiplier not in ("ptd", "qic"):
        try:
            multiplier = float(multiplier)
        except ValueError:
            raise CliError("--multiplier must be ptd, qic or a number") from None
    return settings_from_options(args, XmRSettings, RULE_OPTIONS, multiplier=multiplier)


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
            settings = settings_from_options(
                args, AttributeSettings, _rule_options(AttributeSettings), kind=chart
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
            g_settings = settings_from_options(args, GSettings, _rule_options(GSettings))
            res = g_chart(value, args.improvement, groups=groups, target=args.target, settings=g_settings)
            return res, res.mean, res.runs
        xmr = xmr_chart(value, args.improvement, groups=groups, target=args.target, settings=_settings(args))
        return xmr, xmr.mean, anhoej_runs(xmr.value, xmr.mean, groups=groups)
    except ValueError as exc:
        raise CliError(str(exc)) from None


@dataclass(frozen=True)
class _Input:
    """The rows to chart, in (group, date) order, and what was not numeric."""

    data: pl.DataFrame  # group, date, value[, denominator], _rebase
    has_denominator: bool
    n_bad: int  # non-numeric entries (charted as missing)
    bad_cols: list[str]  # the columns holding them


@dataclass(frozen=True)
class _Grid:
    """Dense ``(S, T)`` layout: one row per group, columns = position of the date within the group."""

    keys: pl.Series  # (S,) group names
    s_idx: np.ndarray  # (rows,) group of each input row
    t_idx: np.ndarray  # (rows,) position of each input row within its group
    y: np.ndarray  # (S, T) values (NaN where missing)
    n: np.ndarray | None  # (S, T) denominators, or None
    groups: np.ndarray | None  # (S, T) rebase group ids, or None without --rebase-col
    dates: np.ndarray  # (S, T) datetime64[D] (NaT past a group's last date)

    def at(self, a: np.ndarray) -> np.ndarray:
        """Grid values back at the input rows (in (group, date) order)."""
        return a[self.s_idx, self.t_idx]


def _read_input(args: argparse.Namespace) -> _Input:
    """Read, check and tidy the input rows (columns named by the options; no duplicate dates)."""
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
    top = value_col or num_col
    assert top is not None  # _columns names a value or a numerator
    value, n_bad = _numeric(frame, top)
    bad_cols = [top] if n_bad else []
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
    return _Input(data, bool(den_col), n_bad, bad_cols)


def _grid(inp: _Input, rebase: bool) -> _Grid:
    """The dense ``(S, T)`` layout of the input rows."""
    data = inp.data
    keys = data["group"].unique(maintain_order=True)
    s_idx = data["group"].rank("dense").cast(pl.Int64).to_numpy() - 1
    t_idx = data.select(pl.int_range(pl.len()).over("group"))[:, 0].to_numpy()
    shape = (len(keys), int(t_idx.max()) + 1)

    def spread(values: np.ndarray, fill: Any, dtype: Any = float) -> np.ndarray:
        out = np.full(shape, fill, dtype=dtype)
        out[s_idx, t_idx] = values
        return out

    y = spread(data["value"].fill_null(np.nan).to_numpy(), np.nan)
    n = spread(data["denominator"].fill_null(np.nan).to_numpy(), np.nan) if inp.has_denominator else None
    marks = spread(data["_rebase"].to_numpy(), False, bool)
    dates = spread(data["date"].to_numpy().astype("datetime64[D]"), np.datetime64("NaT"), "datetime64[D]")
    groups = np.cumsum(marks, axis=1) if rebase else None
    return _Grid(keys, s_idx, t_idx, y, n, groups, dates)


def _points(
    grid: _Grid,
    data: pl.DataFrame,
    res: ChartResult | None,
    charted: np.ndarray,
    centre: np.ndarray,
    runs: RunsResult,
) -> pl.DataFrame:
    """One row per input row: the value charted, its limits, point type, rule and runs signal."""
    nan_grid = np.full(grid.y.shape, np.nan)
    empty = np.full(grid.y.shape, "", dtype=object)
    at = grid.at
    return pl.DataFrame(
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
            "rebase_group": at(res.rebase_group if res is not None else _rebase_ids(grid.groups, grid.y)),
            "short_group": at(res.short_group if res is not None else np.zeros(grid.y.shape, dtype=bool)),
            "runs_signal": at(runs.runs_signal),
        }
    ).with_columns(
        pl.col(c).fill_nan(None) for c in ("value", "mean", "lpl", "upl", "lower_2sigma", "upper_2sigma")
    )


def _summary(
    grid: _Grid,
    chart: str,
    res: ChartResult | None,
    charted: np.ndarray,
    centre: np.ndarray,
    runs: RunsResult,
) -> pl.DataFrame:
    """One row per group: the current rebase group's limits, special-cause counts, icons and runs."""
    s_count, t_count = grid.y.shape
    rows = np.arange(s_count)
    observed = ~np.isnan(charted)
    last_index = np.where(observed, np.arange(t_count), -1).max(axis=1)
    last = np.maximum(last_index, 0)
    has = last_index >= 0

    def last_of(a: np.ndarray) -> np.ndarray:
        return np.where(has, a[rows, last], np.nan if a.dtype.kind == "f" else 0)

    no_limits = np.full(s_count, np.nan)
    pt = res.point_type if res is not None else np.full(grid.y.shape, codes.MISSING_POINT, dtype=np.int8)
    return pl.DataFrame(
        {
            "group": grid.keys.to_numpy(),
            "n": observed.sum(axis=1),
            "n_rebase_groups": np.bincount(build_layout(observed, grid.groups).seg_series, minlength=s_count),
            "mean": last_of(centre),
            "lpl": last_of(res.lpl) if res is not None else no_limits,
            "upl": last_of(res.upl) if res is not None else no_limits,
            "short_group": np.where(has, res.short_group[rows, last], False)
            if res is not None
            else has & False,
            "special_cause_improvement": (pt == codes.IMPROVEMENT).sum(axis=1),
            "special_cause_concern": (pt == codes.CONCERN).sum(axis=1),
            "special_cause_neutral": ((pt == codes.NEUTRAL_HIGH) | (pt == codes.NEUTRAL_LOW)).sum(axis=1),
            "last_date": np.where(has, grid.dates[rows, last], np.datetime64("NaT")),
            "last_point_type": codes.labels(
                np.where(has, pt[rows, last], -1), codes.POINT_TYPE_LABELS
            ).astype(str),
            "variation_icon": res.variation_labels() if res is not None else np.full(s_count, None),
            "assurance_icon": res.assurance_labels() if res is not None else np.full(s_count, None),
            "chart": np.full(s_count, chart),
            "runs_signal": np.where(has, runs.runs_signal[rows, last], False),
            "longest_run": last_of(runs.longest_run),
            "longest_run_max": last_of(runs.longest_run_max),
            "crossings": last_of(runs.crossings),
            "crossings_min": last_of(runs.crossings_min),
        },
        schema_overrides={"variation_icon": pl.String, "assurance_icon": pl.String},
    ).with_columns(pl.col(c).fill_nan(None) for c in ("mean", "lpl", "upl"))


def _emit(args: argparse.Namespace, points: pl.DataFrame, summary: pl.DataFrame, inp: _Input) -> int:
    """Write or print the points and summary; exit 1 when values were not numeric."""
    if args.out:
        out = Path(args.out)
        _write(points, out)
        _write(summary, _summary_path(out))
        print(_table(summary))
        print(f"wrote {points.height} points to {out} and {summary.height} groups to {_summary_path(out)}")
    else:
        points.write_csv(sys.stdout)
        print(_table(summary), file=sys.stderr)
    if inp.n_bad:
        print(
            f"wardwatch spc: {inp.n_bad} non-numeric value(s) in {', '.join(repr(c) for c in inp.bad_cols)} "
            "charted as missing",
            file=sys.stderr,
        )
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Chart the input file: points and summary tables (exit 1 when values were not numeric)."""
    if args.chart == "xmr":
        _settings(args)  # settings errors before reading the file
    inp = _read_input(args)
    grid = _grid(inp, rebase=bool(args.rebase_col))
    res, centre, runs = _chart(args, grid.y, grid.n, grid.groups)
    y, n = grid.y, grid.n
    charted = res.value if res is not None else (y if n is None else np.where(n > 0, y / n, np.nan))
    points = _points(grid, inp.data, res, charted, centre, runs)
    summary = _summary(grid, args.chart, res, charted, centre, runs)
    return _emit(args, points, summary, inp)


def _rebase_ids(groups: np.ndarray | None, y: np.ndarray) -> np.ndarray:
    """Rebase-group ids (0 without rebasing) for charts without a ChartResult."""
    return np.zeros(y.shape, dtype=np.int32) if groups is None else groups.astype(np.int32)
