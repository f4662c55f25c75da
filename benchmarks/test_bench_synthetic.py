"""Benchmark: generate and write a national-scale synthetic trust (2,500 wards x 260 weeks).

Run with ``.venv/bin/python -m pytest benchmarks/test_bench_synthetic.py --benchmark-only``.
The issue's budget for ``wardwatch synth --wards 2500 --weeks 260`` is one minute on 2 cores.
"""

from __future__ import annotations

import pytest

from synthetic import ScenarioSettings, TrustSpec, generate, write_trust

NATIONAL = TrustSpec(
    n_wards=2_500,
    n_weeks=260,
    scenarios=ScenarioSettings.from_spec(
        "closed_culture=50,concealment=20,acute_patient=40,staffing_crisis=20,"
        "winter_pressure=2,definition_change=5,reporting_migration=5"
    ),
)


@pytest.mark.benchmark(group="synthetic")
def test_bench_generate_national(benchmark):
    trust = benchmark.pedantic(generate, args=(NATIONAL, 1), rounds=1, iterations=1)
    assert trust.frame.height > 11_000_000


@pytest.mark.benchmark(group="synthetic")
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bench_write_national(benchmark, tmp_path, fmt):
    trust = generate(NATIONAL, 1)
    paths = benchmark.pedantic(write_trust, args=(trust, tmp_path, fmt), rounds=1, iterations=1)
    assert paths["observations"].stat().st_size > 0
