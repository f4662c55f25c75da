"""Issue 6 acceptance check: ``--as-of`` reproduces the full run for EVERY week of the benchmark.

Not a timing benchmark and not in the normal run (about 15 minutes on 2 cores):

    .venv/bin/python -m pytest benchmarks/test_asof_every_period.py -s
"""

from __future__ import annotations

from engine.cli import main
from engine.io import load_dataset
from engine.scoring.run import score
from tests.scoring.asof_check import as_of_mismatches, weekly_cuts


def test_as_of_every_week_of_the_300_ward_benchmark(tmp_path):
    out = tmp_path / "bench"
    assert main(["synth", "--out", str(out), "--wards", "300", "--weeks", "156", "--seed", "7"]) == 0
    load = load_dataset(out / "observations.csv", out / "wards.csv", out / "events.csv")
    full = score(load)
    cuts = weekly_cuts(full, 1)
    bad = as_of_mismatches(load, full, cuts)
    print(
        f"checked {len(cuts)} cut-offs x {full.ward_status['ward_id'].n_unique()} wards: {len(bad)} mismatches"
    )
    assert bad == []
