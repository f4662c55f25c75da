"""Layouts and encodings: Parquet (typed and text), wide, BOM, UK dates, CRLF, quoted newlines."""

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from engine.io import load_dataset, read_observations
from engine.panel import OBSERVATION_SCHEMA, SUPPRESSED, UNKNOWN, build_panel

BAD = Path(__file__).parents[1] / "data" / "bad"


def test_bom_uk_dates_crlf_suppressed_and_unknown() -> None:
    result = load_dataset(BAD / "obs_bom_uk_dates_crlf.csv", BAD / "wards.csv")
    assert result.ok
    obs = result.observations
    assert obs["period"].to_list() == [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15)]
    assert obs["status"].to_list() == ["observed", "suppressed", "unknown"]
    assert obs["numerator"].to_list() == [2.0, None, None]  # never zero
    panel = build_panel(obs, "weekly")
    assert panel.status[0].tolist() == [0, SUPPRESSED, UNKNOWN]
    assert np.isnan(panel.y[0, 1:]).all()


def test_wide_layout_csv() -> None:
    result = load_dataset(BAD / "obs_wide.csv", BAD / "wards.csv")
    assert result.layout == "wide"
    # 4 rows x 3 indicators = 12 cell pairs, minus 2 fully empty pairs (W1 agency 08/01, W2 manager 01/01)
    assert result.rows_read[str(BAD / "obs_wide.csv")] == 10
    rej = result.rejected.sort("line", "column")
    assert rej.select("line", "column", "code").rows() == [
        (4, "agency_use", "numerator_exceeds_denominator"),
        (5, "agency_use__denominator", "missing_denominator"),
    ]
    obs = result.observations
    assert obs.height == 8
    w1 = obs.filter((pl.col("ward_id") == "W1") & (pl.col("indicator") == "restraint"))
    assert w1["status"].to_list() == ["observed", "suppressed"]
    w2 = obs.filter((pl.col("ward_id") == "W2") & (pl.col("indicator") == "restraint"))
    assert w2["status"].to_list() == ["unknown", "observed"]
    assert obs.filter(pl.col("indicator") == "manager_changes")["denominator"].null_count() == 3


def _frame(n_wards: int = 3, n_weeks: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for w in range(n_wards):
        for t in range(n_weeks):
            rows.append((f"W{w + 1}", date(2024, 1, 1 + 7 * t), "restraint", float(rng.poisson(2)), 120.0))
            rows.append((f"W{w + 1}", date(2024, 1, 1 + 7 * t), "manager_changes", 0.0, None))
    return pl.DataFrame(
        rows, schema=["ward_id", "period", "indicator", "numerator", "denominator"], orient="row"
    ).cast({"denominator": pl.Float64})


def test_parquet_typed_long(tmp_path: Path) -> None:
    df = _frame().with_columns(
        pl.when((pl.col("ward_id") == "W2") & (pl.col("period") == date(2024, 1, 8)))
        .then(None)
        .otherwise(pl.col("numerator"))
        .alias("numerator"),
        pl.when((pl.col("ward_id") == "W2") & (pl.col("period") == date(2024, 1, 8)))
        .then(pl.lit("suppressed"))
        .otherwise(pl.lit("observed"))
        .alias("status"),
    )
    path = tmp_path / "obs.parquet"
    df.sample(fraction=1.0, shuffle=True, seed=3).write_parquet(path)
    result = load_dataset(path, BAD / "wards.csv")
    assert result.ok
    obs = result.observations
    assert obs.schema == pl.Schema(OBSERVATION_SCHEMA)
    assert obs.equals(obs.sort("ward_id", "indicator", "period"))
    assert obs.height == df.height
    sup = obs.filter(pl.col("status") == "suppressed")
    assert sup.height == 2 and sup["numerator"].null_count() == 2
    assert result.cadence == {"manager_changes": "weekly", "restraint": "weekly"}


def test_parquet_rejections_use_row_numbers(tmp_path: Path) -> None:
    df = _frame(1, 3).with_columns(pl.col("period").cast(pl.String))
    df = df.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("garbage"))
        .otherwise(pl.col("period"))
        .alias("period")
    )
    path = tmp_path / "obs.parquet"
    df.write_parquet(path)
    res = read_observations(path)
    assert res.rejected.select("line", "code").rows() == [(3, "unparseable_date")]
    assert res.observations.height + 1 == res.rows_read == df.height


def test_wide_parquet(tmp_path: Path) -> None:
    long = _frame(2, 4)
    wide = (
        long.pivot(on="indicator", index=["ward_id", "period"], values="numerator")
        .join(
            long.filter(pl.col("indicator") == "restraint").select(
                "ward_id", "period", pl.col("denominator").alias("restraint__denominator")
            ),
            on=["ward_id", "period"],
        )
        .sort("ward_id", "period")
    )
    path = tmp_path / "wide.parquet"
    wide.write_parquet(path)
    res = read_observations(path)
    assert res.layout == "wide"
    assert res.rejected.height == 0
    assert res.observations.height == long.height
    got = res.observations.sort("ward_id", "indicator", "period")["numerator"].to_list()
    assert got == long.sort("ward_id", "indicator", "period")["numerator"].to_list()


def test_quoted_newline_keeps_physical_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_text(
        'ward_id,ward_name,provider,ward_type\nW1,"Ash\nWard",P,picu\nW2,Beech,P,nonsense\n\nW3,Cedar,P,rehab\n'
    )
    from engine.io import read_wards

    res = read_wards(f)
    assert res.rejected.select("line", "code").rows() == [(4, "unknown_ward_type")]
    assert res.wards["ward_name"].to_list() == ["Ash\nWard", "Cedar"]
    assert res.rows_read == 3  # the blank line is not a row


def test_monthly_cadence_inferred_even_for_weekly_catalogue_default(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text(
        "ward_id,period,indicator,numerator,denominator\n"
        + "".join(f"W1,2024-{m:02d}-01,restraint,{m},3000\n" for m in range(1, 7))
    )
    res = read_observations(f)
    assert res.cadence == {"restraint": "monthly"}
    assert res.rejected.height == 0


@pytest.mark.parametrize("text", ["1,234", "1234", " 1234 ", "1234.0"])
def test_number_forms(tmp_path: Path, text: str) -> None:
    f = tmp_path / "o.csv"
    f.write_text(f'ward_id,period,indicator,numerator,denominator\nW1,2024-01-01,restraint,2,"{text}"\n')
    res = read_observations(f)
    assert res.observations["denominator"].to_list() == [1234.0]


@pytest.mark.parametrize("text", ["nan", "inf", "1.2.3", "12 3"])
def test_non_numbers_are_rejected(tmp_path: Path, text: str) -> None:
    f = tmp_path / "o.csv"
    f.write_text(f"ward_id,period,indicator,numerator,denominator\nW1,2024-01-01,restraint,{text},100\n")
    res = read_observations(f)
    assert res.rejected["code"].to_list() == ["unparseable_number"]


def test_wide_ignores_register_columns_and_rejects_misspelt_ones(tmp_path: Path) -> None:
    f = tmp_path / "wide.csv"
    f.write_text(
        "ward_id,ward_name,period,restraint,restraint__denominator,restrant\n"
        "W1,Ash,2024-01-01,2,120,\n"
        "W1,Ash,2024-01-08,3,120,4\n"
    )
    res = read_observations(f)
    assert res.observations.height == 2
    assert res.rejected.select("line", "column", "code").rows() == [(3, "restrant", "unknown_indicator")]
    assert "did you mean 'restraint'" in res.rejected["reason"][0]


def test_duplicates_and_order_on_shuffled_data_match_a_plain_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    n = 3000
    df = pl.DataFrame(
        {
            "ward_id": rng.choice(["W1", "W2", "W3"], n),
            "period": (np.datetime64("2024-01-01") + 7 * rng.integers(0, 40, n)).astype("datetime64[D]"),
            "indicator": rng.choice(["restraint", "seclusion", "injuries"], n),
            "numerator": rng.integers(0, 5, n).astype(float),
            "denominator": np.full(n, 150.0),
        }
    )
    path = tmp_path / "o.parquet"
    df.write_parquet(path)
    res = read_observations(path)
    dup = df.select(pl.struct("ward_id", "period", "indicator").is_duplicated()).to_series()
    assert res.rejected["code"].to_list() == ["duplicate"] * int(dup.sum())
    assert res.rejected["line"].to_list() == (np.flatnonzero(dup.to_numpy()) + 1).tolist()
    expected = df.filter(~dup).sort("ward_id", "indicator", "period")
    assert res.observations.select(expected.columns).equals(expected)
