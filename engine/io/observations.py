"""Reading and validating an observations file (long or wide layout, CSV or Parquet).

Output: the canonical observation frame (:data:`engine.panel.OBSERVATION_SCHEMA`) of accepted rows,
and the rejected rows with file, line, column and reason. Every row read is one or the other.

Layouts
-------
*Long*: columns ``ward_id, period, indicator, numerator[, denominator][, status]``.
*Wide*: columns ``ward_id, period`` then one column per indicator key, with ``<key>__denominator``
beside it when the indicator has exposure (register columns such as ``ward_name`` are ignored; any
other column is taken as an indicator, so a misspelt one is rejected, not lost). Each non-empty (numerator or denominator) cell pair is one
observation (one "row read"); a pair with both cells empty is no observation.

Numerators: ``*`` = suppressed (status ``suppressed``), empty = unknown (status ``unknown``); both are
kept with a null numerator, never zero. An optional ``status`` column saying ``suppressed`` marks an
empty numerator as suppressed (for typed Parquet, where ``*`` cannot be written).

Cadence: inferred per indicator from the accepted rows' periods. Monthly when more rows fall on the
first of a month than on the commonest weekday, weekly otherwise (ties: the catalogue's declared
cadence). Rows off the first of the month (monthly) or off the commonest weekday (weekly) are
rejected as ``not_aligned``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from engine.io import parse
from engine.io.encode import encode
from engine.io.errors import FatalInputError
from engine.io.files import BAD_FIELDS, LINE, RawTable, check_columns, read_table
from engine.io.rejections import COLUMN, REASON, RULE, Rule, first_failure, rejected_frame
from engine.panel import OBSERVATION_SCHEMA
from signals import CATALOGUE, Catalogue

DENOMINATOR_SUFFIX = "__denominator"
#: Ward-register columns a wide export may repeat on every row; they are not indicators.
WIDE_IGNORED = ("ward_name", "provider", "ward_type", "beds")
_KEY_COLUMNS = ("ward_id", "period")


@dataclass(frozen=True)
class ObservationsRead:
    """What :func:`read_observations` found in one file.

    Attributes
    ----------
    observations:
        Accepted rows in ``OBSERVATION_SCHEMA``, sorted by ward_id, indicator, period.
    rejected:
        Rejected rows (``engine.io.rejections.REJECT_SCHEMA``).
    rows_read:
        Observations read (long: data rows; wide: non-empty indicator cell pairs).
    layout:
        ``long`` or ``wide``.
    cadence:
        Indicator key -> ``weekly`` or ``monthly`` (indicators with at least one usable period).
    notes:
        Things the user should know that are not rejections (e.g. ignored denominators).
    """

    observations: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int
    layout: str
    cadence: dict[str, str]
    notes: tuple[str, ...] = field(default_factory=tuple)


def read_observations(
    path: str | Path,
    catalogue: Catalogue = CATALOGUE,
    ward_ids: Collection[str] | None = None,
    rejected_ward_ids: Collection[str] = (),
) -> ObservationsRead:
    """Read, parse and validate an observations file.

    Parameters
    ----------
    path:
        CSV or Parquet file, long or wide layout.
    catalogue:
        Known indicators (keys, families, exposure, fractional flags, declared cadence).
    ward_ids:
        Wards in the register; rows for other wards are rejected (``None``: no ward check).
    rejected_ward_ids:
        Ward ids whose register rows were rejected (named as such in the reason).

    Raises
    ------
    FatalInputError
        The file cannot be used at all (see :func:`engine.io.files.read_table`).
    """
    table = read_table(path, required=_KEY_COLUMNS)
    if "indicator" in table.frame.columns:
        check_columns(table, ("indicator", "numerator"))
        long, layout = _long(table.frame), "long"
    else:
        if not any(
            c not in (*_KEY_COLUMNS, *WIDE_IGNORED, LINE, BAD_FIELDS, "status") for c in table.frame.columns
        ):
            raise FatalInputError(
                table.file,
                "missing required column 'indicator' (long layout: ward_id, period, indicator, numerator, "
                "denominator) and no indicator columns for the wide layout",
            )
        long, layout = _wide(table, catalogue), "wide"
    return _validate(long, table.file, layout, catalogue, ward_ids, rejected_ward_ids)


def _long(frame: pl.DataFrame) -> pl.DataFrame:
    cols = [
        pl.col(LINE),
        pl.col("ward_id"),
        pl.col("period"),
        pl.col("indicator"),
        pl.col("numerator"),
        pl.col("denominator")
        if "denominator" in frame.columns
        else pl.lit(None, pl.String).alias("denominator"),
        pl.col("status") if "status" in frame.columns else pl.lit(None, pl.String).alias("status"),
        pl.col(BAD_FIELDS) if BAD_FIELDS in frame.columns else pl.lit(None, pl.String).alias(BAD_FIELDS),
    ]
    return frame.select(cols)


def _wide(table: RawTable, catalogue: Catalogue) -> pl.DataFrame:
    frame = table.frame
    value_cols = [
        c for c in frame.columns if c not in (*_KEY_COLUMNS, *WIDE_IGNORED, LINE, BAD_FIELDS, "status")
    ]
    keys: list[str] = []
    for c in value_cols:
        k = c.removesuffix(DENOMINATOR_SUFFIX)
        if k not in keys:
            keys.append(k)
    # Wide columns share one dtype per key pair; cast to String when the two differ.
    parts = []
    for k in keys:
        den = f"{k}{DENOMINATOR_SUFFIX}"
        num_e = pl.col(k) if k in frame.columns else pl.lit(None, pl.String)
        den_e = pl.col(den) if den in frame.columns else pl.lit(None, pl.String)
        num_dtype = frame.schema[k] if k in frame.columns else pl.String()
        den_dtype = frame.schema[den] if den in frame.columns else pl.String()
        if num_dtype != den_dtype or not (num_dtype.is_numeric() or num_dtype == pl.String):
            num_e, den_e = num_e.cast(pl.String), den_e.cast(pl.String)
        part = frame.select(
            pl.col(LINE),
            pl.col("ward_id").cast(pl.String),
            pl.col("period"),
            pl.lit(k, pl.String).alias("indicator"),
            num_e.alias("numerator"),
            den_e.alias("denominator"),
            pl.lit(None, pl.String).alias("status"),
            pl.col(BAD_FIELDS) if BAD_FIELDS in frame.columns else pl.lit(None, pl.String).alias(BAD_FIELDS),
        )
        empty_num = parse.text("numerator", part.schema["numerator"]) == ""
        empty_den = parse.text("denominator", part.schema["denominator"]) == ""
        parts.append(part.filter(~(empty_num & empty_den)))
    if not parts:
        return pl.DataFrame(
            schema={
                LINE: pl.Int64,
                "ward_id": pl.String,
                "period": pl.String,
                "indicator": pl.String,
                "numerator": pl.String,
                "denominator": pl.String,
                "status": pl.String,
                BAD_FIELDS: pl.String,
            }
        )
    return pl.concat(parts, how="vertical_relaxed")


def _validate(
    long: pl.DataFrame,
    file: str,
    layout: str,
    catalogue: Catalogue,
    ward_ids: Collection[str] | None,
    rejected_ward_ids: Collection[str],
) -> ObservationsRead:
    """Parse, check and split the long frame (vectorised; per-value work is per distinct value)."""
    sch = long.schema
    w = encode(long["ward_id"])
    k = encode(long["indicator"], lower=True)
    keys = set(catalogue)
    known_u = np.array([v in keys for v in k.values], dtype=bool)

    def ind_flag(pred) -> pl.Series:  # type: ignore[no-untyped-def]
        table = np.array([v in keys and bool(pred(catalogue[v])) for v in k.values], dtype=bool)
        return pl.Series(k.lookup(table))

    ward_known = np.ones(long.height, dtype=bool) if ward_ids is None else w.flags(frozenset(ward_ids))
    num_is_text = sch["numerator"] == pl.String
    den_is_text = sch["denominator"] == pl.String
    per_is_text = sch["period"] == pl.String
    # Indicator codes compacted to the known keys (unknown keys -> 0, they are never key-usable), so
    # the integer sort key of _flag_duplicates stays small.
    known_rank = np.where(known_u, np.cumsum(known_u) - 1, 0)
    df = long.with_columns(
        pl.Series("_w", w.codes),
        pl.Series("_k", k.codes),
        pl.Series("_kc", k.lookup(known_rank)),
        pl.Series("_ward_empty", w.flags(frozenset({""}))),
        pl.Series("_ind_empty", k.flags(frozenset({""}))),
        pl.Series("_ind_known", k.lookup(known_u)),
        pl.Series("_ward_known", ward_known),
        ind_flag(lambda i: i.exposure).alias("_exposure"),
        ind_flag(lambda i: i.is_proportion).alias("_proportion"),
        ind_flag(lambda i: not i.fractional).alias("_integer"),
        parse.date("period", sch["period"]).alias("_period"),
        parse.number_column(long, "numerator").alias("_num"),
        parse.number_column(long, "denominator").alias("_den"),
    )
    # Numerator status: '*' suppressed, empty unknown (a status column may say 'suppressed').
    if num_is_text:
        t = parse.text("numerator", pl.String())
        num_star, num_empty = t == "*", t == ""
    else:
        num_star = pl.lit(False)
        num_empty = pl.col("numerator").is_null() | (
            pl.col("numerator").is_nan() if sch["numerator"].is_float() else pl.lit(False)
        )
    said_suppressed = (
        parse.text("status", sch["status"], lower=True) == "suppressed"
        if sch["status"] != pl.Null
        else pl.lit(False)
    )
    status = (
        pl.when(num_star | (num_empty & said_suppressed))
        .then(pl.lit("suppressed"))
        .when(num_empty)
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("observed"))
    )
    df = df.with_columns(status.alias("_status"))
    if per_is_text:
        period_empty = parse.text("period", pl.String()) == ""
    else:
        period_empty = pl.col("period").is_null()
    if den_is_text:
        dt = parse.text("denominator", pl.String())
        den_unparseable = (dt != "") & (dt != "*") & pl.col("_den").is_null()
    else:
        den_unparseable = pl.lit(False)

    observed = pl.col("_status") == "observed"
    num, den = pl.col("_num"), pl.col("_den")
    num_txt, den_txt, ward_txt, ind_txt = (
        _txt("numerator"),
        _txt("denominator"),
        pl.col("_ward"),
        pl.col("_ind"),
    )
    key_rules = [
        Rule(
            "wrong_field_count",
            "(row)",
            pl.col(BAD_FIELDS).is_not_null(),
            pl.format(
                "the row has more fields than the header (extra: '{}'): an unquoted comma?",
                pl.col(BAD_FIELDS),
            ),
        ),
        Rule("missing_value", "ward_id", pl.col("_ward_empty"), "ward_id is empty"),
        Rule("missing_value", "period", period_empty, "period is empty"),
        Rule(
            "unparseable_date",
            "period",
            pl.col("_period").is_null(),
            pl.format("period '{}' is not a date (use YYYY-MM-DD or dd/mm/yyyy)", _txt("period")),
        ),
        Rule("missing_value", "indicator", pl.col("_ind_empty"), "indicator is empty"),
        Rule(
            "unknown_indicator",
            "indicator",
            ~pl.col("_ind_known"),
            pl.format("unknown indicator '{}'", ind_txt) + pl.col("_suggest"),
        ),
        Rule(
            "unknown_ward",
            "ward_id",
            ~pl.col("_ward_known"),
            pl.when(ward_txt.is_in(list(rejected_ward_ids)))
            .then(pl.format("ward '{}' was rejected in the ward register", ward_txt))
            .otherwise(pl.format("ward '{}' is not in the ward register", ward_txt)),
        ),
    ]
    value_rules = [
        Rule(
            "unparseable_number",
            "numerator",
            observed & num.is_null(),
            pl.format("numerator '{}' is not a number ('*' = suppressed, empty = unknown)", num_txt),
        ),
        Rule(
            "unparseable_number",
            "denominator",
            den_unparseable,
            pl.format("denominator '{}' is not a number", den_txt),
        ),
        Rule(
            "negative_count",
            "numerator",
            observed & (num < 0),
            pl.format("numerator {} is negative", num_txt),
        ),
        Rule(
            "missing_denominator",
            "denominator",
            pl.col("_exposure") & den.is_null(),
            pl.format("indicator '{}' needs a denominator and it is empty or suppressed", ind_txt),
        ),
        Rule(
            "bad_denominator",
            "denominator",
            pl.col("_exposure") & (den <= 0),
            pl.format("denominator {} must be greater than zero", den_txt),
        ),
        Rule(
            "numerator_exceeds_denominator",
            "numerator",
            observed & pl.col("_proportion") & (num > den),
            pl.format("numerator {} is larger than denominator {} for a proportion", num_txt, den_txt),
        ),
        Rule(
            "non_integer_count",
            "numerator",
            observed & pl.col("_integer") & (num != num.floor()),
            pl.format("numerator {} is not a whole number (indicator '{}' counts events)", num_txt, ind_txt),
        ),
    ]
    key_ok = ~pl.any_horizontal([r.fails.fill_null(False) for r in key_rules])
    df = df.with_columns(key_ok.alias("_key_ok"))
    cadence, weekday = _infer_cadence(df, k.values, catalogue)
    df = _flag_misaligned(df, k.values, cadence, weekday)
    df = _flag_duplicates(df)
    last_rules = [
        Rule("not_aligned", "period", pl.col("_misaligned"), pl.col("_aligned_reason")),
        Rule(
            "duplicate",
            "(row)",
            pl.col("_dup"),
            pl.format(
                "{} rows for ward '{}', period {}, indicator '{}' (lines {}): all copies rejected, never summed",
                pl.col("_n"),
                ward_txt,
                pl.col("_period"),
                ind_txt,
                pl.col("_lines"),
            ),
        ),
    ]
    rules = [*key_rules, *value_rules, *last_rules]
    exprs = first_failure(rules)
    df = df.with_columns(exprs[0]).with_columns(exprs[1:3])
    bad_idx = df[RULE].is_not_null().arg_true().to_numpy()
    rejected = _rejections(df, bad_idx, rules, w, k, catalogue, cadence, weekday, file, layout)

    # Accepted rows, sorted by (ward, indicator, period) through the integer sort key.
    order = df["_order"].to_numpy()
    accepted_mask = df[RULE].is_null().to_numpy()
    rows = order[accepted_mask[order]]
    identity = len(rows) == long.height and bool(np.all(rows == np.arange(len(rows))))
    good = df.select("_period", "_num", "_den", "_status", "_exposure")
    good = good if identity else good[rows]
    ward_out = long["ward_id"] if (identity and w.unchanged) else w.text(rows)
    ind_out = long["indicator"] if (identity and k.unchanged) else k.text(rows)
    n_ignored = good.filter(~pl.col("_exposure") & pl.col("_den").is_not_null()).height
    observations = pl.DataFrame(
        {
            "ward_id": ward_out,
            "period": good["_period"],
            "indicator": ind_out,
            "numerator": good.select(
                pl.when(pl.col("_status") == "observed").then(pl.col("_num")).otherwise(None)
            ).to_series(),
            "denominator": good.select(
                pl.when(pl.col("_exposure")).then(pl.col("_den")).otherwise(None)
            ).to_series(),
            "status": good["_status"],
        }
    ).cast(OBSERVATION_SCHEMA)  # type: ignore[arg-type]
    notes = []
    if n_ignored:
        notes.append(
            f"{n_ignored} denominator(s) ignored: given for indicators without exposure (e.g. manager_changes)"
        )
    used = set(observations["indicator"].unique().to_list())
    return ObservationsRead(
        observations=observations,
        rejected=rejected,
        rows_read=long.height,
        layout=layout,
        cadence={key: v for key, v in cadence.items() if key in used},
        notes=tuple(notes),
    )


def _txt(name: str) -> pl.Expr:
    """A raw column as trimmed text, for reasons (evaluated on rejected rows only)."""
    return pl.col(name).cast(pl.String).fill_null("").str.strip_chars()


def _rejections(
    df: pl.DataFrame,
    bad_idx: np.ndarray,
    rules: list[Rule],
    w,  # type: ignore[no-untyped-def]
    k,  # type: ignore[no-untyped-def]
    catalogue: Catalogue,
    cadence: dict[str, str],
    weekday: dict[str, int],
    file: str,
    layout: str,
) -> pl.DataFrame:
    """Build the rejected-rows frame, computing reason texts on the rejected rows only."""
    if bad_idx.size == 0:
        return rejected_frame(df.head(0), file, [], [])
    sub = df[bad_idx].with_columns(w.text(bad_idx).alias("_ward"), k.text(bad_idx).alias("_ind"))
    unknown = sorted(set(sub.filter(~pl.col("_ind_known") & ~pl.col("_ind_empty"))["_ind"].to_list()))
    suggest = {
        key: (f" (did you mean '{n}'?)" if (n := catalogue.nearest(key)) else " (not in the catalogue)")
        for key in unknown
    }
    sub = sub.with_columns(
        pl.col("_ind").replace_strict(suggest, default="", return_dtype=pl.String).alias("_suggest")
        if suggest
        else pl.lit("").alias("_suggest")
    )
    # Misalignment reasons.
    wd_name = pl.col("_ind").replace_strict(
        {key: _DAYS[v] for key, v in weekday.items()}, default="?", return_dtype=pl.String
    )
    monthly = [key for key, v in cadence.items() if v == "monthly"]
    sub = sub.with_columns(
        pl.when(pl.col("_ind").is_in(monthly))
        .then(
            pl.format(
                "period {} is not the first of a month ('{}' is monthly)", pl.col("_period"), pl.col("_ind")
            )
        )
        .otherwise(
            pl.format(
                "period {} is a {} but '{}' is weekly with periods starting on {}",
                pl.col("_period"),
                pl.col("_period").dt.strftime("%A"),
                pl.col("_ind"),
                wd_name,
            )
        )
        .alias("_aligned_reason")
    )
    # Duplicate groups: every copy is rejected, so all copies are in ``sub``.
    dups = (
        sub.filter(pl.col("_dup"))
        .group_by("_w", "_k", "_period")
        .agg(pl.len().alias("_n"), pl.col(LINE).sort().head(5).cast(pl.String).str.join(", ").alias("_lines"))
    )
    sub = sub.join(dups, on=["_w", "_k", "_period"], how="left", maintain_order="left")
    chain = None
    for i, rule in enumerate(rules):
        value = pl.lit(rule.reason, pl.String) if isinstance(rule.reason, str) else rule.reason
        cond = pl.col(RULE) == i
        chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)
    sub = sub.with_columns(chain.otherwise(None).alias(REASON))  # type: ignore[union-attr]
    if layout == "wide":  # the wide layout blames the indicator's own column
        sub = sub.with_columns(
            pl.when(pl.col(COLUMN).is_in(["numerator", "indicator"]))
            .then(pl.col("indicator").cast(pl.String))
            .when(pl.col(COLUMN) == "denominator")
            .then(pl.col("indicator").cast(pl.String) + DENOMINATOR_SUFFIX)
            .otherwise(pl.col(COLUMN))
            .alias("_column_label")
        )
    cols = ["ward_id", "period", "indicator", "numerator", "denominator"]
    return rejected_frame(sub, file, value_columns=cols, raw_columns=cols)


def _infer_cadence(
    df: pl.DataFrame, values: list[str], catalogue: Catalogue
) -> tuple[dict[str, str], dict[str, int]]:
    """Cadence per indicator, and the period weekday (1 = Monday) of each weekly indicator.

    Monthly when more usable rows fall on the first of a month than on the commonest weekday; weekly
    otherwise; a tie (e.g. a single period) goes to the catalogue's declared cadence.
    """
    ok = df["_key_ok"].to_numpy()
    first = (df["_period"].dt.day() == 1).fill_null(False).to_numpy()[ok]
    days = df["_period"].cast(pl.Int32).fill_null(0).to_numpy()[ok].astype(np.int64)
    wd = (days + 3) % 7 + 1  # ISO weekday: 1970-01-01 was a Thursday (4)
    n_codes = len(values)
    counts = np.bincount((df["_k"].to_numpy()[ok] * 2 + first) * 8 + wd, minlength=n_codes * 16).reshape(
        n_codes, 2, 8
    )
    cadence: dict[str, str] = {}
    weekday: dict[str, int] = {}
    for code in np.flatnonzero(counts.sum(axis=(1, 2))):
        key = values[int(code)]
        firsts = int(counts[code, 1].sum())
        by_wd = counts[code].sum(axis=0)
        wd_best = int(np.argmax(by_wd))  # lowest weekday wins a tie
        wd_n = int(by_wd[wd_best])
        if firsts > wd_n or (firsts == wd_n and catalogue[key].cadence == "monthly"):
            cadence[key] = "monthly"
        else:
            cadence[key] = "weekly"
            weekday[key] = wd_best
    return cadence, weekday


_DAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _flag_misaligned(
    df: pl.DataFrame, values: list[str], cadence: dict[str, str], weekday: dict[str, int]
) -> pl.DataFrame:
    """``_misaligned``: the period is off the indicator's cadence grid."""
    monthly = np.array([cadence.get(v) == "monthly" for v in values], dtype=bool)
    wd = np.array([weekday.get(v, 0) for v in values], dtype=np.int8)
    codes = df["_k"].to_numpy()
    return df.with_columns(
        pl.Series("_is_monthly", monthly[codes]), pl.Series("_wd", wd[codes])
    ).with_columns(
        (
            pl.col("_key_ok")
            & pl.when(pl.col("_is_monthly"))
            .then(pl.col("_period").dt.day() != 1)
            .otherwise(pl.col("_period").dt.weekday() != pl.col("_wd"))
        )
        .fill_null(False)
        .alias("_misaligned")
    )


def _flag_duplicates(df: pl.DataFrame) -> pl.DataFrame:
    """``_dup`` (several usable rows share ward, period and indicator) and ``_order``.

    One integer key ``(ward code, indicator code, day)`` per usable row gives both the duplicate check
    (equal neighbours after sorting) and the output order (codes are ranks of the sorted texts).
    Unusable rows sort last and are never duplicates.
    """
    n = df.height
    key_ok = df["_key_ok"].to_numpy()
    day = df["_period"].cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64)
    day0 = int(day[key_ok].min()) if key_ok.any() else 0
    span = int(day[key_ok].max()) - day0 + 1 if key_ok.any() else 1
    n_ind = int(df["_kc"].max() or 0) + 1
    key = (df["_w"].to_numpy() * n_ind + df["_kc"].to_numpy()) * span + (day - day0)
    key = np.where(key_ok, key, np.iinfo(np.int64).max)
    if n > 1 and bool(np.all(key[1:] >= key[:-1])):
        order = np.arange(n)
    else:
        order = np.argsort(key, kind="stable")
    sk = key[order]
    same = (sk[1:] == sk[:-1]) & (sk[1:] != np.iinfo(np.int64).max)
    dup_sorted = np.zeros(n, dtype=bool)
    dup_sorted[1:] |= same
    dup_sorted[:-1] |= same
    dup = np.empty(n, dtype=bool)
    dup[order] = dup_sorted
    return df.with_columns(pl.Series("_dup", dup), pl.Series("_order", order))
