"""Benchmarks of the triage store: a scoring run's upsert, a re-score, and single triage writes.

Run: ``.venv/bin/python -m pytest benchmarks/test_bench_store.py --benchmark-only``.
Data generated inline (deterministic); every write is a durable commit (``synchronous=FULL``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import numpy as np
import pytest

from engine.store import AlertRecord, TriageStore

N_ALERTS = 20_000  # e.g. 300 wards x 3 years of indicator and ward alerts


def _records(n: int, seed: int = 0, shift_weeks: int = 0) -> list[AlertRecord]:
    rng = np.random.default_rng(seed)
    stats = rng.gamma(4.0, 1.5, size=n)
    base = dt.date(2024, 1, 1)
    out = []
    for i in range(n):
        opened = base + dt.timedelta(weeks=i % 150)
        out.append(
            AlertRecord(
                alert_id=f"W{i % 300:03d}-{i:06d}",
                ward_id=f"W{i % 300:03d}",
                scope="ward" if i % 4 == 0 else "indicator",
                indicator=None if i % 4 == 0 else "restraint",
                method="combined" if i % 4 == 0 else "cusum_poisson",
                level=("watch", "concern", "urgent")[i % 3],
                direction="up",
                opened=opened,
                onset_estimate=opened - dt.timedelta(weeks=2),
                last_seen=opened + dt.timedelta(weeks=4 + shift_weeks),
                closed=None,
                statistic=float(stats[i]),
                threshold=4.0,
                explanation=f"Restraint has averaged {stats[i]:.1f} per 1,000 bed days for 7 weeks.",
            )
        )
    return out


@pytest.mark.benchmark(group="store")
def test_bench_upsert_new_run(benchmark, tmp_path):
    records = _records(N_ALERTS)
    counter = itertools.count()

    def setup():
        return (TriageStore(tmp_path / f"s{next(counter)}.db"),), {}

    summary = benchmark.pedantic(lambda s: s.upsert_alerts(records), setup=setup, rounds=3)
    assert summary.inserted == N_ALERTS


@pytest.mark.benchmark(group="store")
def test_bench_rescore_run(benchmark, tmp_path):
    store = TriageStore(tmp_path / "s.db")
    store.upsert_alerts(_records(N_ALERTS))
    runs = itertools.count(1)

    def rescore():
        k = next(runs)
        return store.upsert_alerts(
            [
                dataclasses.replace(r, last_seen=r.last_seen + dt.timedelta(weeks=k))
                for r in _records(N_ALERTS)
            ]
        )

    summary = benchmark.pedantic(rescore, rounds=3)
    assert summary.updated == N_ALERTS


@pytest.mark.benchmark(group="store")
def test_bench_add_note(benchmark, tmp_path):
    store = TriageStore(tmp_path / "s.db")
    store.upsert_alerts(_records(1000))
    note = benchmark(store.add_note, "W000-000000", "bench", "Visited the ward; staffing reviewed.")
    assert note.id >= 1


@pytest.mark.benchmark(group="store")
def test_bench_list_inbox(benchmark, tmp_path):
    store = TriageStore(tmp_path / "s.db")
    store.upsert_alerts(_records(N_ALERTS))
    alerts = benchmark(store.list_alerts, status="new", ward="W007")
    assert alerts and all(a.ward_id == "W007" for a in alerts)
