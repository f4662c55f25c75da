"""The rules an observation row must pass, and the checks over all rows at once (cadence,
alignment, duplicates, sort order).

``RULES`` is the table: reason code and blamed column of each rule, in priority order (a rejected row
gets its first failing rule). Rules 0-17 are checked row by row in one compiled pass
(``engine.io._rules_kernel.first_failures``); the last two need every usable row: ``not_aligned``
(the indicator's cadence is inferred from the rows) and ``duplicate`` (several rows share a key).
Everything here works on integer codes and numpy arrays; the texts of the reasons are built for the
rejected rows only (``engine.io.observation_rejections``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.contract.observations import ROW_STATUS_LABELS
from engine.io import _rules_kernel as rk
from engine.io import parse
from engine.io.encode import Encoded, encode
from engine.io.files import BAD_FIELDS
from engine.io.ordering import stable_order
from engine.io.settings import InputSettings
from signals import Catalogue

#: Validation rules in priority order, as (reason code, column blamed); a rejected row gets its first
#: failing rule. The first ``N_KEY_RULES`` make a row unusable as a key (no cadence, no duplicates).
RULES: tuple[tuple[str, str], ...] = (
    ("wrong_field_count", "(row)"),
    ("missing_value", "ward_id"),
    ("missing_value", "period"),
    ("unparseable_date", "period"),
    ("date_out_of_window", "period"),
    ("missing_value", "indicator"),
    ("unknown_indicator", "indicator"),
    ("unknown_ward", "ward_id"),
    ("unknown_status", "status"),
    ("unparseable_number", "numerator"),
    ("unparseable_number", "denominator"),
    ("negative_count", "numerator"),
    ("implausible_value", "numerator"),
    ("missing_denominator", "denominator"),
    ("bad_denominator", "denominator"),
    ("implausible_value", "denominator"),
    ("numerator_exceeds_denominator", "numerator"),
    ("non_integer_count", "numerator"),
    ("not_aligned", "period"),
    ("duplicate", "(row)"),
)
N_KEY_RULES = 8
#: Status codes of accepted rows: indices into the contract's ``ROW_STATUS_LABELS`` (the statuses a
#: row may state, in the contract's order observed, suppressed, unknown), which label the codes of
#: :class:`~engine.coded.CodedObservations`.
OBSERVED, SUPPRESSED, UNKNOWN = range(len(ROW_STATUS_LABELS))


@dataclass(frozen=True)
class ParsedRows:
    """The long frame's rows as codes and numbers (arrays: one entry per row read, or per code).

    Attributes
    ----------
    wards, indicators:
        Ward ids and (lower-cased) indicator keys as codes.
    known, bits, max_numerator:
        Per indicator code: in the catalogue; its ``engine.io._rules_kernel`` bits; the plausible
        numerator limit (by the indicator's family).
    periods:
        The parsed periods (days since 1970-01-01, with validity masks).
    numerator, denominator:
        The parsed numbers (NaN where empty, suppressed or unparseable).
    status:
        ``OBSERVED``, ``SUPPRESSED`` or ``UNKNOWN`` (``*`` suppressed, empty unknown, or what a
        ``status`` column says).
    """

    wards: Encoded
    indicators: Encoded
    known: np.ndarray
    bits: np.ndarray
    max_numerator: np.ndarray
    periods: parse.Dates
    numerator: np.ndarray
    denominator: np.ndarray
    status: np.ndarray


def parse_rows(
    long: pl.DataFrame, catalogue: Catalogue, limits: InputSettings
) -> tuple[ParsedRows, np.ndarray, np.ndarray]:
    """Parse the long frame; also the two row flags only the first-failure pass needs: the
    denominator is unparseable, and the ``status`` column holds an invalid value (empty array: no
    ``status`` column). Per-value work is done once per distinct ward id or indicator."""
    n = long.height
    k = encode(long["indicator"], lower=True)
    num = parse.numbers(long["numerator"])
    if "denominator" in long.columns:
        den = parse.numbers(long["denominator"])
    else:
        none = np.zeros(n, dtype=bool)
        den = parse.Numbers(np.full(n, np.nan), np.ones(n, dtype=bool), none, none)
    # Numerator status: '*' suppressed, empty unknown (a status column may say 'suppressed').
    status = np.zeros(n, dtype=np.int8)
    status[num.empty] = UNKNOWN
    status[num.star] = SUPPRESSED
    status_bad = apply_status_column(long, status)
    rows = ParsedRows(
        wards=encode(long["ward_id"]),
        indicators=k,
        known=np.array([v in catalogue for v in k.values], dtype=bool),
        bits=indicator_bits(k.values, catalogue),
        max_numerator=numerator_limits(k.values, catalogue, limits),
        periods=parse.dates(long["period"]),
        numerator=num.values,
        denominator=den.values,
        status=status,
    )
    return rows, den.unparseable, status_bad


def first_failures(
    long: pl.DataFrame,
    rows: ParsedRows,
    den_unparseable: np.ndarray,
    status_bad: np.ndarray,
    ward_ids: Collection[str] | None,
    limits: InputSettings,
) -> np.ndarray:
    """Index into ``RULES`` of each row's first failing row-by-row rule (0-17), or -1 (one compiled
    pass). A rule ``< 0`` or ``>= N_KEY_RULES`` leaves the row usable as a key."""
    w, per = rows.wards, rows.periods
    ward_bits = np.where(np.array([v == "" for v in w.values], dtype=bool), rk.EMPTY, 0).astype(np.uint8)
    if ward_ids is not None:
        ward_bits |= np.where(w.table(frozenset(ward_ids)), 0, rk.UNKNOWN).astype(np.uint8)
    lo, hi = limits.window()
    period_out = per.valid & ((per.days < days_since_epoch(lo)) | (per.days > days_since_epoch(hi)))
    bad_fields = (
        long[BAD_FIELDS].is_not_null().to_numpy() if BAD_FIELDS in long.columns else np.zeros(0, bool)
    )
    rule = np.empty(long.height, dtype=np.int8)
    rk.first_failures(
        rule,
        bad_fields,
        w.codes,
        ward_bits,
        per.empty,
        per.valid,
        period_out,
        rows.indicators.codes,
        rows.bits,
        rows.status,
        status_bad,
        rows.numerator,
        rows.denominator,
        den_unparseable,
        rows.max_numerator,
        float(limits.max_denominator),
    )
    return rule


@dataclass(frozen=True)
class Verdict:
    """Which rows are rejected and why, with what the whole-file checks found.

    Attributes
    ----------
    cadence, weekday:
        Indicator key -> ``weekly``/``monthly``; weekly key -> period weekday (1 = Monday).
    ordered:
        The usable rows in (ward, indicator, period) order (``None``: every row, already in order).
    dup:
        Per row: several usable rows share its key (all copies are rejected).
    bad, bad_idx, rule_bad:
        Per row: rejected; the rejected rows' indices; and the index into ``RULES`` of each.
    """

    cadence: dict[str, str]
    weekday: dict[str, int]
    ordered: np.ndarray | None
    dup: np.ndarray
    bad: np.ndarray
    bad_idx: np.ndarray
    rule_bad: np.ndarray


def judge(rows: ParsedRows, rule: np.ndarray, catalogue: Catalogue) -> Verdict:
    """Add the whole-file rules (``not_aligned``, ``duplicate``) to the row rules ``rule``."""
    key_ok = rule.view(np.uint8) >= N_KEY_RULES  # -1 is 255
    usable = None if key_ok.all() else np.flatnonzero(key_ok)  # None: every row
    del key_ok
    cadence, weekday, misaligned = infer_cadence(rows.indicators, rows.periods, usable, catalogue)
    ordered, dup = sort_order(rows.wards, rows.indicators, rows.periods, usable, rows.known)
    del usable
    bad = rule >= 0
    bad |= misaligned
    bad |= dup
    bad_idx = np.flatnonzero(bad)
    rule_bad = rule[bad_idx].astype(np.int32)
    late = rule_bad < 0  # only the last two rules (alignment, duplicates) fail
    rule_bad[late] = np.where(misaligned[bad_idx[late]], len(RULES) - 2, len(RULES) - 1)
    return Verdict(cadence, weekday, ordered, dup, bad, bad_idx, rule_bad)


def indicator_bits(values: list[str], catalogue: Catalogue) -> np.ndarray:
    """Per indicator key: the ``engine.io._rules_kernel`` bits (empty, unknown, exposure, ...)."""
    bits = np.zeros(len(values), dtype=np.uint8)
    for j, v in enumerate(values):
        if v == "":
            bits[j] |= rk.EMPTY
        if v not in catalogue:
            bits[j] |= rk.UNKNOWN
            continue
        ind = catalogue[v]
        bits[j] |= (
            (rk.EXPOSURE if ind.exposure else 0)
            | (rk.PROPORTION if ind.is_proportion else 0)
            | (rk.INTEGER if not ind.fractional else 0)
        )
    return bits


def days_since_epoch(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - dt.date(1970, 1, 1)).days


def numerator_limits(values: list[str], catalogue: Catalogue, limits: InputSettings) -> np.ndarray:
    """Plausibility limit of the numerator of each indicator code (by the indicator's family)."""
    out = np.full(len(values), np.inf)
    for j, v in enumerate(values):
        if v in catalogue:
            family = catalogue[v].family
            out[j] = limits.max_measure if family == "measure" else limits.max_count
            if family == "proportion":
                out[j] = limits.max_denominator
    return out


def apply_status_column(long: pl.DataFrame, status: np.ndarray) -> np.ndarray:
    """Let a ``status`` column override the numerator's own status; return its invalid values.

    ``observed``, ``suppressed`` or ``unknown`` (any case) set the row's status; an empty status
    keeps the numerator's (``*`` suppressed, empty unknown, else observed). Returns ``(N,)`` bool:
    the status is something else (the row is rejected), or an empty array without a status column.
    """
    if "status" not in long.columns or long.schema["status"] == pl.Null:
        return np.zeros(0, dtype=bool)
    col = long["status"]
    if col.dtype == pl.Categorical:
        values, codes = parse.distinct_codes(col)
        texts = pl.DataFrame({"s": values}).select(parse.text("s", pl.String(), lower=True)).to_series()
        if (texts == "").all():
            return np.zeros(0, dtype=bool)
        said = np.append(texts.to_numpy(), "")[codes]
    else:
        distinct = col.unique()
        texts = pl.DataFrame({"s": distinct}).select(parse.text("s", distinct.dtype, lower=True)).to_series()
        if (texts == "").all():
            return np.zeros(0, dtype=bool)
        said = pl.DataFrame({"s": col}).select(parse.text("s", col.dtype, lower=True)).to_series().to_numpy()
    for code, label in enumerate(ROW_STATUS_LABELS):
        status[said == label] = code
    return ~np.isin(said, ["", *ROW_STATUS_LABELS])


def sort_order(
    w: Encoded, k: Encoded, per: parse.Dates, usable: np.ndarray | None, known_t: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """Usable rows in (ward, indicator, period) order, and ``dup``: several usable rows share a key.

    One integer key ``(ward code, indicator code, day)`` per usable row (``usable``: their indices,
    ``None`` for every row) gives both (codes are ranks of the sorted texts; indicator codes are
    compacted to the known keys so the key stays small). Returns ``order`` (row indices of the usable
    rows, sorted stably; ``None`` when every row is usable and already in order) and ``dup``
    (``(N,)`` bool).
    """
    n = len(per.days)
    if n == 0 or (usable is not None and usable.size == 0):
        return np.zeros(0, dtype=np.int64), np.zeros(n, dtype=bool)
    day0, span = _day_span(per, usable)
    known_rank = np.where(known_t, np.cumsum(known_t) - 1, 0)
    n_ind = max(int(known_t.sum()), 1)
    rows = np.zeros(0, dtype=np.int64) if usable is None else usable
    key = np.empty(n if usable is None else usable.size, dtype=np.int64)
    rk.sort_keys(key, rows, usable is None, w.codes, known_rank, k.codes, per.days, n_ind, span, day0)
    order, dup_u = stable_order(key, span)
    del key
    if usable is None:
        return order, dup_u
    dup = np.zeros(n, dtype=bool)
    dup[usable] = dup_u
    return (usable if order is None else usable[order]), dup


def _day_span(per: parse.Dates, usable: np.ndarray | None) -> tuple[int, int]:
    """First day and number of days spanned by the usable rows (at least one)."""
    day = per.days if usable is None else per.days[usable]
    day0 = int(day.min())
    return day0, int(day.max()) - day0 + 1


#: Largest (indicator x day) count table for the tabulated cadence inference (else row by row).
_MAX_TABLE = 1 << 22


def infer_cadence(
    k: Encoded, per: parse.Dates, usable: np.ndarray | None, catalogue: Catalogue
) -> tuple[dict[str, str], dict[str, int], np.ndarray]:
    """Cadence per indicator, the period weekday (1 = Monday) of each weekly one, and ``misaligned``.

    Counted over the usable rows (``usable``: their indices, ``None`` for every row). Monthly when
    more usable rows fall on the first of a month than on the commonest weekday; weekly otherwise; a
    tie (e.g. a single period) goes to the catalogue's declared cadence. ``misaligned`` (``(N,)``
    bool) marks usable rows off their indicator's grid (monthly: not the first of a month; weekly:
    not on the weekday). Rows are counted per (indicator, day) when that table is small (a few years
    of days), else row by row.
    """
    n, values = len(per.days), k.values
    m = n if usable is None else usable.size
    misaligned = np.zeros(n, dtype=bool)
    if m == 0:
        return {}, {}, misaligned
    day0, span = _day_span(per, usable)
    n_codes = len(values)
    rows = np.zeros(0, dtype=np.int64) if usable is None else usable
    tabulate = n_codes * span <= _MAX_TABLE
    if tabulate:
        by_day = np.zeros(n_codes * span, dtype=np.int64)
        rk.count_cells(by_day, rows, usable is None, m, k.codes, per.days, span, day0)
        first_d, wd_d = _first_and_weekday(np.arange(day0, day0 + span, dtype=np.int64))
        counts = np.zeros((n_codes, 2, 8), dtype=np.int64)
        cells = (
            np.repeat(np.arange(n_codes), span),
            np.tile(first_d.astype(np.int64), n_codes),
            np.tile(wd_d, n_codes),
        )
        np.add.at(counts, cells, by_day)
    else:
        kc, day = (k.codes, per.days) if usable is None else (k.codes[usable], per.days[usable])
        first_r, wd_r = _first_and_weekday(day.astype(np.int64))
        counts = np.bincount((kc.astype(np.int64) * 2 + first_r) * 8 + wd_r, minlength=n_codes * 16).reshape(
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
    monthly = np.array([cadence.get(v) == "monthly" for v in values], dtype=bool)
    wd_k = np.array([weekday.get(v, 0) for v in values], dtype=np.int8)
    if tabulate:
        off = np.where(monthly[:, None], ~first_d[None, :], wd_d[None, :] != wd_k[:, None]).ravel()
        rk.lookup_cells(misaligned, rows, usable is None, m, off, k.codes, per.days, span, day0)
    else:
        mis_u = np.where(monthly[kc], ~first_r, wd_r != wd_k[kc])
        if usable is None:
            return cadence, weekday, mis_u
        misaligned[usable] = mis_u
    return cadence, weekday, misaligned


def _first_and_weekday(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For days since 1970-01-01: is it the first of a month (bool), and its ISO weekday (1 = Monday)."""
    d = days.astype("datetime64[D]")
    first = d.astype("datetime64[M]").astype("datetime64[D]") == d
    return first, ((days + 3) % 7 + 1).astype(np.int64)  # 1970-01-01 was a Thursday (4)
