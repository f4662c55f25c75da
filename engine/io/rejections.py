"""Rejection bookkeeping: each rejected row gets one reason (the first rule it breaks).

A reader lists its rules as :class:`Rule` objects (a boolean "fails" expression, the column to blame
and a reason expression) in priority order; :func:`first_failure` turns them into four columns on the
frame, all null for an accepted row. Rows are then split with one filter, so every row read is either
accepted or rejected, never both and never neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

#: Columns of every rejected-rows frame.
REJECT_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "line": pl.Int64(),  # CSV physical line (header = 1) or Parquet 1-based row number
    "column": pl.String(),  # the column at fault (the wide layout names the indicator's column)
    "value": pl.String(),  # the offending value as written ("" when empty)
    "code": pl.String(),  # stable reason code, e.g. "unknown_indicator" (see REASONS)
    "reason": pl.String(),  # human sentence, e.g. "unknown indicator 'restrant' (did you mean 'restraint'?)"
    "raw": pl.String(),  # the row's fields, comma-joined
}

#: Every rejection code with its plain-English meaning (documented in docs/data-contract.md).
REASONS: dict[str, str] = {
    "wrong_field_count": "the row has more fields than the header (an unquoted comma?)",
    "empty_row": "a wide-layout row with no value in any indicator column",
    "missing_value": "a required field is empty",
    "unparseable_date": "the date is not YYYY-MM-DD or dd/mm/yyyy with a four-digit year (or is not a real date)",
    "date_out_of_window": "the date is outside the accepted window ([input] earliest_period to latest_period)",
    "unknown_status": "the status is not observed, suppressed or unknown",
    "implausible_value": "a numerator or denominator above its family's plausibility limit ([input] max_*)",
    "unparseable_number": "the value is not a number",
    "unknown_indicator": "the indicator is not a catalogue key",
    "unknown_ward": "the ward is not in the ward register (or its register row was rejected)",
    "negative_count": "a numerator below zero",
    "missing_denominator": "the indicator needs a denominator and none was given",
    "bad_denominator": "the denominator is zero or negative",
    "numerator_exceeds_denominator": "a proportion's numerator is larger than its denominator",
    "non_integer_count": "a count that is not a whole number",
    "not_aligned": "the period is not a first of month (monthly) or not on the indicator's weekday (weekly)",
    "duplicate": "more than one row for the same ward, period and indicator (all copies rejected)",
    "unknown_ward_type": "ward_type is not one of the allowed ward types",
    "bad_beds": "beds is not a positive whole number",
    "duplicate_ward": "the ward_id appears more than once in the register (all copies rejected)",
    "unknown_kind": "the event kind is not reconfiguration, manager_change, rebase or note",
}

CODE, COLUMN, REASON, RULE = "_code", "_column", "_reason", "_rule"


@dataclass(frozen=True)
class Rule:
    """One validation rule.

    Attributes
    ----------
    code:
        Key of :data:`REASONS`.
    column:
        Name of the raw column to blame.
    fails:
        Boolean expression, true where the row breaks the rule (nulls count as not failing).
    reason:
        String expression (or plain text) with the human reason; evaluated on rejected rows only.
    """

    code: str
    column: str
    fails: pl.Expr
    reason: str | pl.Expr


def first_failure(rules: Sequence[Rule]) -> list[pl.Expr]:
    """Expressions for ``_code``, ``_column`` and ``_rule`` (index of the first failing rule).

    Only cheap literals are computed for every row; the reason text is built later, on the rejected
    rows alone, by :func:`with_reasons`.
    """
    chain: Then | ChainedThen | None = None
    for i, rule in enumerate(rules):
        cond = rule.fails.fill_null(False)
        chain = pl.when(cond).then(pl.lit(i, pl.Int32)) if chain is None else chain.when(cond).then(i)
    idx = pl.lit(None, pl.Int32) if chain is None else chain.otherwise(pl.lit(None, pl.Int32))
    codes = {i: r.code for i, r in enumerate(rules)}
    cols = {i: r.column for i, r in enumerate(rules)}
    return [
        idx.alias(RULE),
        pl.col(RULE).replace_strict(codes, default=None, return_dtype=pl.String).alias(CODE),
        pl.col(RULE).replace_strict(cols, default=None, return_dtype=pl.String).alias(COLUMN),
        pl.lit(None, pl.String).alias(REASON),
    ]


def apply_rules(frame: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """Add ``_rule``, ``_code``, ``_column`` and ``_reason`` columns (reasons for failing rows only)."""
    exprs = first_failure(rules)
    frame = frame.with_columns(exprs[0]).with_columns(exprs[1:])
    return with_reasons(frame, rules)


def with_reasons(frame: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """Fill ``_reason`` from the rules for rows whose ``_rule`` is set (computed on those rows only)."""
    bad = frame[RULE].is_not_null()
    if not bad.any():
        return frame
    idx = bad.arg_true()
    sub = frame[idx]
    chain: Then | ChainedThen | None = None
    for i, rule in enumerate(rules):
        value = pl.lit(rule.reason, pl.String) if isinstance(rule.reason, str) else rule.reason
        cond = pl.col(RULE) == i
        chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)
    reasons = sub.select(chain.otherwise(pl.lit(None, pl.String)).alias(REASON))[REASON]  # type: ignore[union-attr]
    full = frame[REASON].scatter(idx, reasons)
    return frame.with_columns(full.alias(REASON))


def set_failure(frame: pl.DataFrame, fails: pl.Expr, code: str, column: str, reason: pl.Expr) -> pl.DataFrame:
    """Reject rows not yet rejected where ``fails`` holds (a rule that needs the whole frame first)."""
    mask = frame.select((pl.col(CODE).is_null() & fails.fill_null(False)).alias("m"))["m"]
    if not mask.any():
        return frame
    idx = mask.arg_true()
    reasons = frame[idx].select(reason.cast(pl.String).alias(REASON))[REASON]
    return frame.with_columns(
        frame[CODE].scatter(idx, code).alias(CODE),
        frame[COLUMN].scatter(idx, column).alias(COLUMN),
        frame[REASON].scatter(idx, reasons).alias(REASON),
        frame[RULE].scatter(idx, -1).alias(RULE),
    )


def rejected_frame(
    frame: pl.DataFrame, file: str, value_columns: Sequence[str], raw_columns: Sequence[str]
) -> pl.DataFrame:
    """The rejected rows of ``frame`` (``_code`` not null) in :data:`REJECT_SCHEMA`.

    ``value_columns`` are the raw columns a rule may blame (their text is the ``value``);
    ``raw_columns`` are joined with commas into ``raw``.
    """
    bad = frame.filter(pl.col(CODE).is_not_null())
    if bad.height == 0:
        return empty_rejections()
    value = pl.lit(None, pl.String)
    for c in value_columns:
        if c in bad.columns:
            value = pl.when(pl.col(COLUMN) == c).then(pl.col(c).cast(pl.String)).otherwise(value)
    raw = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in raw_columns if c in bad.columns], separator=","
    )
    column = pl.col("_column_label") if "_column_label" in bad.columns else pl.col(COLUMN)
    return bad.select(
        pl.lit(file, pl.String).alias("file"),
        pl.col("_line").cast(pl.Int64).alias("line"),
        column.alias("column"),
        value.fill_null("").alias("value"),
        pl.col(CODE).alias("code"),
        pl.col(REASON).alias("reason"),
        raw.alias("raw"),
    ).sort("line", maintain_order=True)


def empty_rejections() -> pl.DataFrame:
    """A rejected-rows frame with no rows."""
    return pl.DataFrame(schema=REJECT_SCHEMA)
