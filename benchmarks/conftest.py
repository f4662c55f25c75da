"""Shared benchmark fixtures: cached synthetic datasets and a figures table printed after the run.

The national panel (2,500 wards x 260 weeks x every catalogue indicator, Parquet) is generated once
with the seeded synthetic generator and cached on disk under ``.benchmarks/data/<key>/``, where the key
hashes the generator parameters and the synthetic package's source, so a change to either makes a new
dataset. Generation takes about a minute on 2 cores; later runs reuse it.

Benchmarks record headline figures with :func:`record`; they are printed as one table at the end of
the session (and written to ``.benchmarks/national-figures.json``). When the national benchmarks run,
the table also holds the host's speed at the start and the end of the session (``H1``/``H2``, see
``hostprobe.py``): the same code runs 3x slower in a busy hour on this shared VM.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".benchmarks" / "data"
DATA_VERSION = 1  # bump to regenerate every cached dataset

#: Scenario mix for the national panel: a nation has proportionally more episodes than one trust.
NATIONAL_SCENARIOS = (
    "closed_culture=50,concealment=20,acute_patient=40,staffing_crisis=20,"
    "winter_pressure=2,definition_change=5,reporting_migration=5"
)

_FIGURES: dict[str, tuple[float, str, str]] = {}


def record(name: str, value: float, unit: str, note: str = "") -> None:
    """Keep a headline figure for the end-of-session table (``name`` orders the table)."""
    _FIGURES[name] = (float(value), unit, note)


@dataclass(frozen=True)
class Dataset:
    """Paths of a cached synthetic dataset."""

    folder: Path
    observations: Path
    wards: Path
    events: Path
    n_wards: int
    n_weeks: int


def _source_digest() -> str:
    h = hashlib.sha256()
    for f in sorted((ROOT / "synthetic").glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def cached_dataset(n_wards: int, n_weeks: int, seed: int, scenarios: str, fmt: str = "parquet") -> Dataset:
    """Generate (once) and return a synthetic dataset cached under ``.benchmarks/data``."""
    from synthetic import ScenarioSettings, TrustSpec, generate, write_trust

    params = f"v{DATA_VERSION}-w{n_wards}-t{n_weeks}-s{seed}-{fmt}-{scenarios}-{_source_digest()}"
    key = f"w{n_wards}-t{n_weeks}-s{seed}-" + hashlib.sha256(params.encode()).hexdigest()[:10]
    folder = CACHE / key
    obs = folder / f"observations.{fmt}"
    if not (folder / "complete").exists():
        spec = TrustSpec(n_wards=n_wards, n_weeks=n_weeks, scenarios=ScenarioSettings.from_spec(scenarios))
        tmp = CACHE / f".{key}.{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        write_trust(generate(spec, seed), tmp, fmt)  # type: ignore[arg-type]
        (tmp / "params.txt").write_text(params + "\n")
        (tmp / "complete").write_text("")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return Dataset(folder, obs, folder / "wards.csv", folder / "events.csv", n_wards, n_weeks)


@pytest.fixture(scope="session")
def national_dataset() -> Dataset:
    """2,500 wards x 260 weeks x every indicator, Parquet (cached on disk)."""
    return cached_dataset(2_500, 260, 1, NATIONAL_SCENARIOS)


@pytest.fixture(scope="session")
def demo_dataset() -> Dataset:
    """A demo trust: 40 wards x 156 weeks (3 years), the generator's default scenarios."""
    from synthetic import DEFAULT_SCENARIOS

    return cached_dataset(40, 156, 1, DEFAULT_SCENARIOS)


def _record_host_speed(when: str) -> None:
    """``when`` is "start" or "end" (of the benchmark session); it also orders the table rows."""
    from hostprobe import cpu_probe, fresh_memory_probe

    tag = "a" if when == "start" else "b"
    cpu_note = "pure-Python loop of 5 M additions, best of 3"
    record(f"H1{tag} host CPU probe at {when}", cpu_probe(), "s", cpu_note)
    record(
        f"H2{tag} host fresh memory at {when}",
        fresh_memory_probe(),
        "s/GB",
        "first touch of 1 GB, new process",
    )


def pytest_collection_finish(session):  # type: ignore[no-untyped-def]
    """Probe the host before the national benchmarks (their figures depend on its speed)."""
    opt = session.config.getoption
    skipping = opt("benchmark_skip", default=False) and not opt("benchmark_only", default=False)
    if not skipping and any(item.path.name == "test_bench_national.py" for item in session.items):
        _record_host_speed("start")


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if not _FIGURES:
        return
    if any(name.startswith("H1") for name in _FIGURES):
        _record_host_speed("end")
    tr = terminalreporter
    tr.section("wardwatch national-scale figures")
    width = max(len(k) for k in _FIGURES)
    for name in sorted(_FIGURES):
        value, unit, note = _FIGURES[name]
        text = f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
        tr.write_line(f"{name:<{width}}  {text:>12} {unit:<6} {note}")
    out = ROOT / ".benchmarks" / "national-figures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {k: {"value": v, "unit": u, "note": n} for k, (v, u, n) in sorted(_FIGURES.items())}, indent=2
        )
    )
    tr.write_line(f"(also written to {out.relative_to(ROOT)})")
