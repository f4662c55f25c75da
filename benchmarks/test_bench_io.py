"""Loader throughput on a national-size Parquet file: 2,500 wards x 260 weeks x 20 indicators (13 M rows).

Run with ``python dev.py bench`` (or ``pytest benchmarks/test_bench_io.py --benchmark-only``).
"""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from engine.io import load_dataset
from signals import WARD_INDICATORS

W, T, K = 2500, 260, 20


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("national")
    rng = np.random.default_rng(20240101)
    keys = np.array(list(WARD_INDICATORS)[:K])
    wards = np.array([f"W{i:05d}" for i in range(W)])
    periods = (np.datetime64("2019-01-07") + 7 * np.arange(T)).astype("datetime64[D]")
    n = W * T * K
    wi = np.repeat(np.arange(W), T * K)
    ti = np.tile(np.repeat(np.arange(T), K), W)
    ki = np.tile(np.arange(K), W * T)
    den = rng.integers(100, 400, n).astype(float)
    num = np.minimum(rng.poisson(2, n).astype(float), den)
    frame = pl.DataFrame(
        {
            "ward_id": wards[wi],
            "period": periods[ti],
            "indicator": keys[ki],
            "numerator": num,
            "denominator": den,
        }
    ).with_columns(
        pl.when(pl.col("indicator") == "manager_changes")
        .then(None)
        .otherwise("denominator")
        .alias("denominator")
    )
    obs, reg = d / "observations.parquet", d / "wards.csv"
    frame.write_parquet(obs)
    pl.DataFrame(
        {"ward_id": wards, "ward_name": wards, "provider": "P", "ward_type": "acute_adult"}
    ).write_csv(reg)
    return obs, reg


@pytest.mark.benchmark(group="io")
def test_bench_load_national_parquet(benchmark, national: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    obs, reg = national
    result = benchmark.pedantic(load_dataset, args=(obs, reg), rounds=2, iterations=1)
    assert result.observations.height == W * T * K
    assert result.ok
