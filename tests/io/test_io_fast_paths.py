"""The loader's fast paths give the same results as the plain formulations they replace.

* the observations validator against a row-by-row Python reference of every rule (first failing rule,
  cadence, alignment, duplicates, output order and values) on random messy files;
* the run-based stable order against ``np.argsort(kind="stable")``;
* run-length encoding against hashing every value;
* the one-cast number parser against :func:`engine.io.parse.number`;
* compiled kernels serial against parallel, the tabulated cadence against the row-by-row one.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine.io.observation_rules as obs_mod
from engine.io import _rules_kernel, read_observations
from engine.io.encode import _encode_small, encode
from engine.io.ordering import stable_order
from engine.io.parse import _parse_views, dates, number, numbers
from signals import CATALOGUE

WARDS = ["W1", "W2", "W3", "W9", "", " W1 ", "W2 "]
PERIODS = [
    "2024-01-01",
    "2024-01-08",
    "2024-01-15",
    "08/01/2024",
    "2024-01-09",
    "2024-02-01",
    "2024-03-01",
    "2024-02-30",
    "",
    " ",
    "soon",
]
INDICATORS = [
    "restraint",
    "Restraint ",
    "agency_use",
    "manager_changes",
    "vacancy_rate",
    "staff_turnover",
    "restrant",
    "",
]
NUMBERS = [
    "0",
    "1",
    "2",
    "3.5",
    "-1",
    "-0",
    "*",
    " * ",
    "",
    " 4 ",
    "x",
    "150",
    "1,200",
    "nan",
    "inf",
    "1e2",
    ".5",
]
DENOMS = ["", "0", "-5", "100", "140", "*", "abc", "2.5", " 7 ", "1,000", "inf"]
REGISTER = {"W1", "W2", "W3"}

row = st.tuples(
    st.sampled_from(WARDS),
    st.sampled_from(PERIODS),
    st.sampled_from(INDICATORS),
    st.sampled_from(NUMBERS),
    st.sampled_from(DENOMS),
    st.booleans(),  # an extra field (ragged row)
)


def _value(text: str) -> float | None:
    return pl.DataFrame({"v": [text]}).select(number("v", pl.String())).item()


def _day(text: str) -> date | None:
    t = text.strip()
    d = pl.Series([t]).str.to_date("%Y-%m-%d", strict=False).item()
    return d if d is not None else pl.Series([t]).str.to_date("%d/%m/%Y", strict=False).item()


def _reference(rows: list) -> tuple[dict[int, str], list[tuple]]:
    """Row-by-row reference: line -> reason code of rejected rows, and the accepted rows in order."""
    parsed = []
    for line, (w, p, i, n, d, extra) in enumerate(rows, start=2):
        wt, it, nt, dt = w.strip(), i.strip().lower(), n.strip(), d.strip()
        day = _day(p)
        num, den = _value(n), _value(d)
        status = "suppressed" if nt == "*" else ("unknown" if nt == "" else "observed")
        observed = status == "observed"
        ind = CATALOGUE.get(it)
        exposure = bool(ind and ind.exposure)
        checks = [
            ("wrong_field_count", extra),
            ("missing_value", wt == ""),
            ("missing_value", p.strip() == ""),
            ("unparseable_date", day is None),
            ("missing_value", it == ""),
            ("unknown_indicator", ind is None),
            ("unknown_ward", wt not in REGISTER),
            ("unparseable_number", observed and num is None),
            ("unparseable_number", dt not in ("", "*") and den is None),
            ("negative_count", observed and num is not None and num < 0),
            ("missing_denominator", exposure and den is None),
            ("bad_denominator", exposure and den is not None and den <= 0),
            (
                "numerator_exceeds_denominator",
                observed
                and ind is not None
                and ind.is_proportion
                and num is not None
                and den is not None
                and num > den,
            ),
            (
                "non_integer_count",
                observed
                and ind is not None
                and not ind.fractional
                and num is not None
                and num != math.floor(num),
            ),
        ]
        code = next((c for c, failed in checks if failed), None)
        key_ok = not any(failed for _, failed in checks[:7])
        parsed.append((line, wt, it, day, num, den, status, exposure, code, key_ok))
    usable = [r for r in parsed if r[9]]
    grid: dict[str, tuple[bool, int]] = {}
    for it in {r[2] for r in usable}:
        days = [r[3] for r in usable if r[2] == it]
        firsts = sum(d.day == 1 for d in days)
        by_wd = [sum(d.isoweekday() == k for d in days) for k in range(1, 8)]
        best = int(np.argmax(by_wd)) + 1
        monthly = firsts > max(by_wd) or (firsts == max(by_wd) and CATALOGUE[it].cadence == "monthly")
        grid[it] = (monthly, best)
    copies: dict[tuple, int] = {}
    for r in usable:
        copies[(r[1], r[2], r[3])] = copies.get((r[1], r[2], r[3]), 0) + 1
    codes, accepted = {}, []
    for r in parsed:
        line, wt, it, day, num, den, status, exposure, code, key_ok = r
        if code is None and key_ok:
            monthly, wd = grid[it]
            if (day.day != 1) if monthly else (day.isoweekday() != wd):
                code = "not_aligned"
            elif copies[(wt, it, day)] > 1:
                code = "duplicate"
        if code is not None:
            codes[line] = code
        else:
            accepted.append(
                (wt, day, it, num if status == "observed" else None, den if exposure else None, status)
            )
    accepted.sort(key=lambda a: (a[0], a[2], a[1]))
    return codes, accepted


def _write(rows: list, path: Path) -> None:
    lines = ["ward_id,period,indicator,numerator,denominator"]
    for w, p, i, n, d, extra in rows:
        fields = [w, p, i, f'"{n}"' if "," in n else n, f'"{d}"' if "," in d else d]
        if extra:
            fields.append("surplus")
        lines.append(",".join(fields))
    path.write_text("\n".join(lines) + "\n")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=0, max_size=60))
def test_validator_matches_row_by_row_reference(tmp_path: Path, rows: list) -> None:
    path = tmp_path / "obs.csv"
    _write(rows, path)
    result = read_observations(path, CATALOGUE, sorted(REGISTER))
    codes, accepted = _reference(rows)
    got = dict(zip(result.rejected["line"].to_list(), result.rejected["code"].to_list(), strict=True))
    assert got == codes
    assert result.observations.rows() == accepted


def _runs_keys(rng: np.random.Generator, n_runs: int) -> np.ndarray:
    """Keys made of sorted runs laid out in random order (sometimes overlapping, with ties)."""
    runs = [
        np.sort(rng.integers(0, rng.integers(1, 60), rng.integers(1, 30))) + 50 * rng.integers(0, 8)
        for _ in range(n_runs)
    ]
    order = rng.permutation(n_runs)
    return np.concatenate([runs[j] for j in order]).astype(np.int64)


@pytest.mark.parametrize("seed", range(300))
def test_stable_order_is_a_stable_argsort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    kind = seed % 4
    if kind == 0:
        key = _runs_keys(rng, int(rng.integers(1, 12)))
    elif kind == 1:  # series (blocks of 100 keys) in shuffled order: the run-based path
        blocks = [
            np.arange(b * 100, b * 100 + rng.integers(1, 40), rng.integers(1, 4)) for b in rng.permutation(10)
        ]
        key = np.concatenate(blocks).astype(np.int64)
        if rng.random() < 0.5:  # equal keys where two runs meet
            key[rng.integers(0, key.size)] = key[rng.integers(0, key.size)]
    elif kind == 2:
        key = rng.integers(0, 5, int(rng.integers(0, 50))).astype(np.int64)
    else:
        key = np.sort(rng.integers(0, 20, int(rng.integers(0, 50)))).astype(np.int64)
    order, dup = stable_order(key, None if seed % 3 == 0 else int(rng.integers(1, 120)))
    expected = np.argsort(key, kind="stable")
    np.testing.assert_array_equal(np.arange(key.size) if order is None else order, expected)
    counts = {v: int((key == v).sum()) for v in np.unique(key)}
    np.testing.assert_array_equal(dup, np.array([counts[v] > 1 for v in key], dtype=bool))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("lower", [False, True])
def test_run_length_encoding_matches_hashing(seed: int, lower: bool) -> None:
    rng = np.random.default_rng(seed)
    choices = ["a", " a", "b", "B ", "", "c", None]
    runs = rng.integers(0, len(choices), 6_000)
    values = np.repeat(runs, rng.integers(1, 60, runs.size))[: 120_000 + seed]
    s = pl.Series([choices[v] for v in values], dtype=pl.String)
    a, b = encode(s, lower=lower), _encode_small(s, lower)
    assert a.values == b.values
    np.testing.assert_array_equal(a.codes, b.codes)
    assert a.text().to_list() == b.text().to_list()


TEXTS = [
    *NUMBERS,
    *DENOMS,
    "+3",
    "5.",
    "1e400",
    "-1e-400",
    "0x10",
    "1_0",
    "\t2",
    "1,234.5",
    "12,34",
    "NaN",
    "-inf",
    None,
]


def test_numbers_match_the_expression() -> None:
    s = pl.Series(TEXTS * 3, dtype=pl.String)
    got = numbers(s)
    frame = pl.DataFrame({"v": s}).select(
        number("v", pl.String()).alias("num"), pl.col("v").fill_null("").str.strip_chars().alias("t")
    )
    want = frame["num"].to_numpy()
    np.testing.assert_array_equal(
        got.values.view(np.int64), np.where(np.isnan(want), np.nan, want).view(np.int64)
    )
    np.testing.assert_array_equal(got.empty, (frame["t"] == "").to_numpy())
    np.testing.assert_array_equal(got.star, (frame["t"] == "*").to_numpy())
    np.testing.assert_array_equal(got.unparseable, ~got.empty & ~got.star & frame["num"].is_null().to_numpy())
    typed = pl.Series([1.5, None, float("nan"), float("inf"), -0.0, 3.0])
    t = numbers(typed)
    np.testing.assert_array_equal(t.empty, [False, True, True, False, False, False])
    np.testing.assert_array_equal(np.isnan(t.values), [False, True, True, True, False, False])
    assert not t.star.any() and not t.unparseable.any()


def test_dates_by_distinct_value_match_the_expression() -> None:
    texts = ["2024-01-01", " 2024-01-08", "08/01/2024", "2024-02-30", "", None, "soon"] * 10
    many = dates(pl.Series(texts))  # few distinct values: parsed per value
    single = dates(pl.Series(texts[:7]))  # as many distinct values as rows: parsed row by row
    for a, b in ((many.days, single.days), (many.valid, single.valid), (many.empty, single.empty)):
        np.testing.assert_array_equal(a, np.tile(b, 10))
    np.testing.assert_array_equal(single.valid, [True, True, True, False, False, False, False])
    np.testing.assert_array_equal(single.empty, [False, False, False, False, True, True, False])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=60))
def test_parallel_kernels_and_row_cadence_agree(tmp_path: Path, rows: list) -> None:
    path = tmp_path / "obs.csv"
    _write(rows, path)
    base = read_observations(path, CATALOGUE, sorted(REGISTER))
    kernels = (_rules_kernel.first_failures, _rules_kernel.accepted_columns)
    saved = [k.min_cells for k in kernels], obs_mod._MAX_TABLE
    try:
        for k in kernels:
            k.min_cells = 0
        obs_mod._MAX_TABLE = 0
        other = read_observations(path, CATALOGUE, sorted(REGISTER))
    finally:
        for k, m in zip(kernels, saved[0], strict=True):
            k.min_cells = m
        obs_mod._MAX_TABLE = saved[1]
    assert other.observations.equals(base.observations, null_equal=True)
    assert other.rejected.equals(base.rejected, null_equal=True)
    assert other.cadence == base.cadence


def test_decimals_from_string_views_match_the_polars_cast() -> None:
    rng = np.random.default_rng(5)
    texts = []
    for _ in range(50_000):
        s = "".join(rng.choice(list("0123456789"), int(rng.integers(1, 12))))
        if rng.random() < 0.5:
            p = int(rng.integers(0, len(s) + 1))
            s = s[:p] + "." + s[p:]
        texts.append(("-" + s if rng.random() < 0.3 else s)[:12])
    texts += ["-0", "0.0", "-.5", "5.", ".", "-", "+1", "1e3", "123456789012", "1234567890123", None, ""]
    parts = [pl.Series(texts[i : i + 7_000], dtype=pl.String) for i in range(0, len(texts), 7_000)]
    col = pl.concat([parts[0].slice(3), *parts[1:]], rechunk=False)  # several chunks, one with an offset
    assert col.n_chunks() > 1
    assert _parse_views(col) is not None  # the compiled path is the one tested
    got = numbers(col).values
    want = col.str.strip_chars().cast(pl.Float64, strict=False)
    want = want.set(~want.is_finite().fill_null(False), None).to_numpy()
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
