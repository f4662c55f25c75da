"""build_panel: bit-identical to the plain sort / join / searchsorted pivot, in any row order."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from engine.panel import (
    MISSING,
    OBSERVATION_SCHEMA,
    OBSERVED,
    STATUS_LABELS,
    Panel,
    SeriesRows,
    build_panel,
    period_grid,
)


def reference_panel(
    observations: pl.DataFrame,
    cadence: str,
    indicators: list[str] | None = None,
    periods: np.ndarray | None = None,
) -> Panel:
    """The original pivot (sort, key join, searchsorted on the grid, fancy-index scatter)."""
    obs = observations
    if indicators is not None:
        obs = obs.filter(pl.col("indicator").is_in(indicators))
    obs = obs.sort("ward_id", "indicator", "period")
    if periods is None:
        if obs.height == 0:
            periods = np.array([], dtype="datetime64[D]")
        else:
            periods = period_grid(
                np.datetime64(obs["period"].min(), "D"), np.datetime64(obs["period"].max(), "D"), cadence
            )
    keys = obs.select("ward_id", "indicator").unique(maintain_order=True)
    s_count, t_count = keys.height, len(periods)
    y = np.full((s_count, t_count), np.nan)
    n = np.full((s_count, t_count), np.nan)
    status = np.full((s_count, t_count), MISSING, dtype=np.int8)
    if s_count and t_count:
        obs = obs.join(
            keys.with_row_index("_s"), on=["ward_id", "indicator"], how="left", maintain_order="left"
        )
        p = obs["period"].to_numpy().astype("datetime64[D]")
        col = np.searchsorted(periods, p)
        inside = (col < t_count) & (periods[np.minimum(col, t_count - 1)] == p)
        row = obs["_s"].to_numpy()[inside]
        col = col[inside]
        y[row, col] = obs["numerator"].to_numpy().astype(float)[inside]
        den = obs["denominator"].to_numpy().astype(float)[inside]
        n[row, col] = np.where(np.isnan(den), 1.0, den)
        codes = {label: code for code, label in enumerate(STATUS_LABELS)}
        status[row, col] = obs["status"].replace_strict(codes, return_dtype=pl.Int8).to_numpy()[inside]
        y[status != OBSERVED] = np.nan
    return Panel(
        cadence,  # type: ignore[arg-type]
        periods,
        keys["ward_id"].to_numpy().astype(str),
        keys["indicator"].to_numpy().astype(str),
        y,
        n,
        status,
    )


def assert_identical(a: Panel, b: Panel) -> None:
    assert a.cadence == b.cadence
    for name in ("periods", "ward_id", "indicator", "y", "n", "status"):
        x, z = getattr(a, name), getattr(b, name)
        assert x.dtype == z.dtype and x.shape == z.shape, name
        if x.dtype.kind == "f":
            x, z = x.view(np.uint64), z.view(np.uint64)
        np.testing.assert_array_equal(x, z, err_msg=name)


def random_frame(
    rng: np.random.Generator, cadence: str, n_wards: int = 7, n_periods: int = 30
) -> pl.DataFrame:
    """Sorted canonical rows with gaps, late starts, suppressed/unknown rows, null denominators."""
    indicators = ["restraint", "seclusion", "seclusion_hours", "vacancy_rate", "zeta"]
    start = np.datetime64("2023-01-02") if cadence == "weekly" else np.datetime64("2023-01-01")
    grid = period_grid(
        start, start + np.timedelta64(7 * n_periods if cadence == "weekly" else 31 * n_periods, "D"), cadence
    )  # type: ignore[arg-type]
    rows = []
    for w in range(n_wards):
        for ind in indicators:
            if rng.random() < 0.15:
                continue
            first = int(rng.integers(0, len(grid) // 3))
            for t in range(first, len(grid)):
                if rng.random() < 0.1:
                    continue
                u = rng.random()
                st = "observed" if u < 0.8 else ("suppressed" if u < 0.9 else "unknown")
                num = None if st != "observed" and rng.random() < 0.7 else float(rng.poisson(4))
                den = None if ind == "seclusion_hours" or rng.random() < 0.05 else float(rng.integers(0, 60))
                rows.append((f"W{w:03d}", grid[t].item(), ind, num, den, st))
    return pl.DataFrame(rows, schema=OBSERVATION_SCHEMA, orient="row")


@pytest.mark.parametrize("cadence", ["weekly", "monthly"])
@pytest.mark.parametrize("seed", range(6))
def test_matches_reference_in_any_order(cadence, seed):
    rng = np.random.default_rng(seed)
    obs = random_frame(rng, cadence)
    shuffled = obs.sample(fraction=1.0, shuffle=True, seed=seed)
    subset = ["restraint", "vacancy_rate", "zeta"]
    grid = np.unique(obs["period"].to_numpy().astype("datetime64[D]"))
    explicit = grid[2:-3][::2] if seed % 2 else grid[1:-1]  # a gappy or a shortened grid: rows fall off it
    for frame in (obs, shuffled):
        for indicators in (None, subset, ["absent"], []):
            for periods in (None, explicit, np.array([], dtype="datetime64[D]")):
                expected = reference_panel(frame, cadence, indicators, periods)
                assert_identical(build_panel(frame, cadence, indicators, periods), expected)


def test_off_grid_rows_dropped_but_series_kept():
    rng = np.random.default_rng(11)
    obs = random_frame(rng, "weekly", n_wards=3)
    off = obs.head(4).with_columns(pl.col("period") + dt.timedelta(days=2))  # Wednesdays: not on the grid
    frame = pl.concat([obs, off.with_columns(pl.lit("W999").alias("ward_id"))])
    assert_identical(build_panel(frame, "weekly"), reference_panel(frame, "weekly"))
    assert "W999" in build_panel(frame, "weekly").ward_id


def test_partly_sorted_and_interleaved_runs():
    """Key order broken only between runs, or only inside a run: both still give the sorted result."""
    rng = np.random.default_rng(5)
    obs = random_frame(rng, "weekly")
    runs_swapped = pl.concat(
        [obs.filter(pl.col("ward_id") == "W003"), obs.filter(pl.col("ward_id") != "W003")]
    )
    inside_run = (
        obs.with_row_index("_i").sort(pl.col("_i") // 7, descending=True, maintain_order=True).drop("_i")
    )
    interleaved = pl.concat(
        [obs.filter(pl.col("period").dt.day() > 15), obs.filter(pl.col("period").dt.day() <= 15)]
    )
    for frame in (runs_swapped, inside_run, interleaved):
        for indicators in (None, ["seclusion", "zeta"]):
            assert_identical(
                build_panel(frame, "weekly", indicators), reference_panel(frame, "weekly", indicators)
            )


def test_empty_frame():
    empty = pl.DataFrame(schema=OBSERVATION_SCHEMA)
    assert_identical(build_panel(empty, "weekly"), reference_panel(empty, "weekly"))
    grid = period_grid(np.datetime64("2024-01-01"), np.datetime64("2024-03-01"), "monthly")
    assert_identical(
        build_panel(empty, "monthly", periods=grid), reference_panel(empty, "monthly", periods=grid)
    )


def test_unknown_status_label_raises_only_when_selected():
    rng = np.random.default_rng(2)
    obs = random_frame(rng, "weekly", n_wards=2)
    bad = obs.with_columns(
        pl.when(pl.col("indicator") == "zeta")
        .then(pl.lit("bogus"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    assert_identical(build_panel(bad, "weekly", ["restraint"]), reference_panel(bad, "weekly", ["restraint"]))
    with pytest.raises(pl.exceptions.InvalidOperationError):
        build_panel(bad, "weekly")


def test_other_column_types():
    """Datetime periods and integer numerators are read as the original pivot read them."""
    rng = np.random.default_rng(8)
    obs = random_frame(rng, "weekly", n_wards=3).with_columns(
        pl.col("period").cast(pl.Datetime("us")), pl.col("numerator").cast(pl.Int64)
    )
    assert_identical(build_panel(obs, "weekly"), reference_panel(obs, "weekly"))


@pytest.mark.parametrize("seed", range(3))
def test_shared_series_rows_give_the_same_panels(seed):
    """One SeriesRows serves several panels of the frame (as cadence_panels uses it), sorted or not."""
    rng = np.random.default_rng(seed)
    obs = random_frame(rng, "weekly")
    for frame in (obs, obs.sample(fraction=1.0, shuffle=True, seed=seed)):
        rows = SeriesRows(frame)
        assert rows.indicators() == frame["indicator"].unique().sort().to_list()
        for indicators in (["restraint", "zeta"], ["seclusion_hours"], None, []):
            expected = reference_panel(frame, "weekly", indicators)
            assert_identical(build_panel(frame, "weekly", indicators, rows=rows), expected)
            assert_identical(build_panel(frame, "weekly", indicators), expected)


def test_series_rows_of_another_frame_refused():
    obs = random_frame(np.random.default_rng(0), "weekly")
    with pytest.raises(ValueError, match="same frame"):
        build_panel(obs, "weekly", rows=SeriesRows(obs.head(10)))
