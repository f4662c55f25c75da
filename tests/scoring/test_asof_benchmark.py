"""The --as-of truncation property on the default 300-ward synthetic benchmark (sampled cut-offs).

Every period of the benchmark is checked by ``benchmarks/test_asof_every_period.py`` (15 minutes);
this test runs 12 evenly spaced cut-offs so that CI checks the property at full scale on every change.
"""

from __future__ import annotations

import pytest

from engine.cli import main
from engine.io import load_dataset
from engine.scoring.run import score
from tests.scoring.asof_check import as_of_mismatches, weekly_cuts


@pytest.mark.slow
def test_as_of_on_the_300_ward_benchmark(tmp_path):
    out = tmp_path / "bench"
    assert main(["synth", "--out", str(out), "--wards", "300", "--weeks", "156", "--seed", "7"]) == 0
    load = load_dataset(out / "observations.csv", out / "wards.csv", out / "events.csv")
    full = score(load)
    cuts = weekly_cuts(full, 13)
    assert len(cuts) == 12
    assert as_of_mismatches(load, full, cuts) == []
