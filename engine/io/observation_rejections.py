"""The rejected observation rows as a frame: file, line, column, value, code, reason, raw text.

Reasons are texts built with polars expressions over the rejected rows only (never over the whole
file), one per rule of ``engine.io.observation_rules.RULES``; the wide layout blames the
indicator's own column instead of ``numerator``/``denominator``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from engine.io.files import BAD_FIELDS, LINE
from engine.io.observation_rules import RULES, ParsedRows, Verdict
from engine.io.rejections import CODE, COLUMN, REASON, RULE, empty_rejections, rejected_frame
from engine.io.settings import InputSettings
from signals import Catalogue

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

DENOMINATOR_SUFFIX = "__denominator"
_DAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: the helper columns that identify a key (ward code, indicator code, period) among rejected rows.
_KEY = ["_w", "_k", "_period"]


def observation_rejections(
    long: pl.DataFrame,
    rows: ParsedRows,
    verdict: Verdict,
    catalogue: Catalogue,
    file: str,
    layout: str,
    rejected_ward_ids: Collection[str],
    limits: InputSettings,
) -> pl.DataFrame:
    """Build the rejected-rows frame, computing reason texts on the rejected rows only."""
    if verdict.bad_idx.size == 0:
        return empty_rejections()
    sub = _rejected_rows(long, rows, verdict)
    sub = _with_suggestions(sub, catalogue)
    sub = _with_alignment_reasons(sub, verdict.cadence, verdict.weekday)
    sub = _with_duplicate_groups(sub)
    sub = sub.with_columns(_reason_by_rule(rejected_ward_ids, limits).alias(REASON))
    if layout == "wide":  # the wide layout blames the indicator's own column
        sub = sub.with_columns(_wide_column_label().alias("_column_label"))
    cols = ["ward_id", "period", "indicator", "numerator", "denominator"]
    raw_cols = [*cols, "status"] if "status" in long.columns else cols
    return rejected_frame(sub, file, value_columns=[*cols, "status"], raw_columns=raw_cols)


def _rejected_rows(long: pl.DataFrame, rows: ParsedRows, verdict: Verdict) -> pl.DataFrame:
    """The rejected rows' raw columns with the helper columns the reasons need, and each row's
    rule as ``CODE`` and ``COLUMN``."""
    bad_idx = verdict.bad_idx
    w, k, per = rows.wards, rows.indicators, rows.periods
    sub = long[bad_idx]
    for c in ("denominator", "status", BAD_FIELDS):
        if c not in sub.columns:
            sub = sub.with_columns(pl.lit(None, pl.String).alias(c))
    kb = k.codes[bad_idx]
    period = pl.Series("_period", per.days[bad_idx], dtype=pl.Int32).cast(pl.Date)
    invalid = np.flatnonzero(~per.valid[bad_idx])
    if invalid.size:
        period = period.scatter(invalid, None)
    return sub.with_columns(
        pl.Series("_w", w.codes[bad_idx]),
        pl.Series("_k", kb),
        period,
        pl.Series("_ind_known", rows.known[kb]),
        pl.Series("_ind_empty", np.array([v == "" for v in k.values], dtype=bool)[kb]),
        pl.Series("_dup", verdict.dup[bad_idx]),
        pl.Series("_limit", [f"{v:g}" for v in rows.max_numerator[kb]], dtype=pl.String),
        pl.Series(RULE, verdict.rule_bad),
        w.text(bad_idx).alias("_ward"),
        k.text(bad_idx).alias("_ind"),
    ).with_columns(
        pl.col(RULE).replace_strict(dict(enumerate(c for c, _ in RULES)), return_dtype=pl.String).alias(CODE),
        pl.col(RULE)
        .replace_strict(dict(enumerate(c for _, c in RULES)), return_dtype=pl.String)
        .alias(COLUMN),
    )


def _with_suggestions(sub: pl.DataFrame, catalogue: Catalogue) -> pl.DataFrame:
    """``_suggest``: the nearest catalogue key of each unknown indicator, as the reason's tail."""
    unknown = sorted(set(sub.filter(~pl.col("_ind_known") & ~pl.col("_ind_empty"))["_ind"].to_list()))
    suggest = {
        key: (f" (did you mean '{n}'?)" if (n := catalogue.nearest(key)) else " (not in the catalogue)")
        for key in unknown
    }
    return sub.with_columns(
        pl.col("_ind").replace_strict(suggest, default="", return_dtype=pl.String).alias("_suggest")
        if suggest
        else pl.lit("").alias("_suggest")
    )


def _with_alignment_reasons(
    sub: pl.DataFrame, cadence: dict[str, str], weekday: dict[str, int]
) -> pl.DataFrame:
    """``_aligned_reason``: why a period is off its indicator's grid (monthly or weekly)."""
    wd_name = pl.col("_ind").replace_strict(
        {key: _DAYS[v] for key, v in weekday.items()}, default="?", return_dtype=pl.String
    )
    monthly = [key for key, v in cadence.items() if v == "monthly"]
    off_month = pl.format(
        "period {} is not the first of a month ('{}' is monthly)", pl.col("_period"), pl.col("_ind")
    )
    off_weekday = pl.format(
        "period {} is a {} but '{}' is weekly with periods starting on {}",
        pl.col("_period"),
        pl.col("_period").dt.strftime("%A"),
        pl.col("_ind"),
        wd_name,
    )
    return sub.with_columns(
        pl.when(pl.col("_ind").is_in(monthly)).then(off_month).otherwise(off_weekday).alias("_aligned_reason")
    )


def _with_duplicate_groups(sub: pl.DataFrame) -> pl.DataFrame:
    """``_n`` and ``_lines``: the size and first five lines of each duplicate row's group (every
    copy is rejected, so all copies are in ``sub``)."""
    dups = (
        sub.filter(pl.col("_dup"))
        .group_by(*_KEY)
        .agg(pl.len().alias("_n"), pl.col(LINE).sort().head(5).cast(pl.String).str.join(", ").alias("_lines"))
    )
    return sub.join(dups, on=_KEY, how="left", maintain_order="left")


def _reason_by_rule(rejected_ward_ids: Collection[str], limits: InputSettings) -> pl.Expr:
    """The reason of each rejected row: the text of its rule (``RULE``)."""
    chain: Then | ChainedThen | None = None
    for i, reason in enumerate(_reasons(rejected_ward_ids, limits)):
        value = pl.lit(reason, pl.String) if isinstance(reason, str) else reason
        cond = pl.col(RULE) == i
        chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)
    return chain.otherwise(None)  # type: ignore[union-attr]


def _wide_column_label() -> pl.Expr:
    """The wide layout's column of a blamed numerator (``<key>``) or denominator (``<key>__denominator``)."""
    return (
        pl.when(pl.col(COLUMN).is_in(["numerator", "indicator"]))
        .then(pl.col("indicator").cast(pl.String))
        .when(pl.col(COLUMN) == "denominator")
        .then(pl.col("indicator").cast(pl.String) + DENOMINATOR_SUFFIX)
        .otherwise(pl.col(COLUMN))
    )


def _reasons(rejected_ward_ids: Collection[str], limits: InputSettings) -> list[str | pl.Expr]:
    """The reason text of each rule in :data:`RULES` (expressions over the rejected rows)."""
    lo, hi = limits.window()
    window_txt = f"{lo} to {hi} (set [input] earliest_period / latest_period to change it)"
    max_den = limits.max_denominator
    num_txt, den_txt, ward_txt, ind_txt = (
        _txt("numerator"),
        _txt("denominator"),
        pl.col("_ward"),
        pl.col("_ind"),
    )
    return [
        pl.format(
            "the row has more fields than the header (extra: '{}'): an unquoted comma?", pl.col(BAD_FIELDS)
        ),
        "ward_id is empty",
        "period is empty",
        pl.format(
            "period '{}' is not a date (use YYYY-MM-DD or dd/mm/yyyy with a four-digit year)", _txt("period")
        ),
        pl.format("period {} is outside the accepted window {}", pl.col("_period"), pl.lit(window_txt)),
        "indicator is empty",
        pl.format("unknown indicator '{}'", ind_txt) + pl.col("_suggest"),
        pl.when(ward_txt.is_in(list(rejected_ward_ids)))
        .then(pl.format("ward '{}' was rejected in the ward register", ward_txt))
        .otherwise(pl.format("ward '{}' is not in the ward register", ward_txt)),
        pl.format("status '{}' is not observed, suppressed or unknown", _txt("status")),
        pl.format("numerator '{}' is not a number ('*' = suppressed, empty = unknown)", num_txt),
        pl.format("denominator '{}' is not a number", den_txt),
        pl.format("numerator {} is negative", num_txt),
        pl.format(
            "numerator {} is above the plausible limit {} for indicator '{}' (a typing error? limits: [input])",
            num_txt,
            pl.col("_limit"),
            ind_txt,
        ),
        pl.format("indicator '{}' needs a denominator and it is empty or suppressed", ind_txt),
        pl.format("denominator {} must be greater than zero", den_txt),
        pl.format(
            "denominator {} is above the plausible limit {} (a typing error? limits: [input])",
            den_txt,
            pl.lit(f"{max_den:g}"),
        ),
        pl.format("numerator {} is larger than denominator {} for a proportion", num_txt, den_txt),
        pl.format("numerator {} is not a whole number (indicator '{}' counts events)", num_txt, ind_txt),
        pl.col("_aligned_reason"),
        pl.format(
            "{} rows for ward '{}', period {}, indicator '{}' (lines {}): all copies rejected, never summed",
            pl.col("_n"),
            ward_txt,
            pl.col("_period"),
            ind_txt,
            pl.col("_lines"),
        ),
    ]


def _txt(name: str) -> pl.Expr:
    """A raw column as trimmed text, for reasons (evaluated on rejected rows only)."""
    return pl.col(name).cast(pl.String).fill_null("").str.strip_chars()
