"""National scale: every stage of ``wardwatch score`` on 2,500 wards x 260 weeks x every indicator.

Run with ``python dev.py bench`` (the whole suite) or, for this file only,
``.venv/bin/python -m pytest benchmarks/test_bench_national.py --benchmark-only -p no:cacheprovider``.
The national Parquet panel is generated once and cached under ``.benchmarks/data`` (see
``conftest.py``). Figures are printed at the end of the session; the targets of issue 9 are: end-to-end
national scoring from Parquet <= 10 s with peak memory <= 4 GB, change points >= 10x faster than
``ruptures``, and a demo-trust score (40 wards, 3 years) < 1 s warm.

Stages (each timed alone on the national data, inputs prepared by the real pipeline):

* load + validate (``engine.io.load_dataset``), building the dense panels;
* baselines (``engine.baselines.fit_baselines`` per family, peer group = ward type x indicator);
* early detectors (the CUSUM of each indicator's family, EWMA, zero-run silence, data silence);
* control charts (Making Data Count XmR display chart and the prospective monitoring chart);
* change points (exact PELT, ``engine.changepoint.detect_panel``);
* combination (``ward_evidence``: domain CUSUMs and levels);
* scoring in process (``engine.scoring.run.score``: everything from the panels to the alert table);
* writing results (``write_results``: ward_status.csv, alerts.csv, series.parquet with charts);
* end to end: the ``wardwatch score`` command in a fresh process, with its peak resident memory.

Plain baselines a user would otherwise write, timed on sampled series and extrapolated to all series:
a per-series Python loop for the negative-binomial CUSUM, and ``ruptures.Pelt`` with the engine's exact
Poisson/binomial segment cost. Both are checked to give the same answers on the sample.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import ruptures as rpt
from conftest import Dataset, record

from engine.baselines import fit_baselines
from engine.changepoint import ChangePointSettings, detect_changepoints, detect_panel
from engine.charts import chart_panel, xmr_monitor
from engine.config import Config
from engine.detectors import BinomialCusum, DataSilence, Ewma, NegBinCusum, PoissonCusum, Silence
from engine.io import load_dataset
from engine.scoring.outputs import write_results
from engine.scoring.run import cadence_panels, score
from engine.scoring.wards import ward_evidence
from tests.changepoint.reference import RupturesCost

ROOT = Path(__file__).resolve().parent.parent
CFG = Config()
CATALOGUE = CFG.build_catalogue()


# ---- fixtures: the real pipeline's intermediate results, computed once per session ------------------
@pytest.fixture(scope="session")
def national_load(national_dataset: Dataset):  # type: ignore[no-untyped-def]
    d = national_dataset
    return load_dataset(d.observations, d.wards, d.events, catalogue=CATALOGUE)


@pytest.fixture(scope="session")
def national_scored(national_load):  # type: ignore[no-untyped-def]
    return score(national_load, CFG)


def _panels(load):  # type: ignore[no-untyped-def]
    """The dense panels as ``wardwatch score`` builds them (from the loader's coded rows)."""
    return cadence_panels(load.coded, load.events, load.cadence, CFG).panels


#: Runs the ``wardwatch`` CLI and, at exit, records the process's own peak resident memory (VmHWM
#: of its address space: unlike ``ru_maxrss`` it does not inherit the parent's peak across fork/exec).
_CLI_WITH_PEAK = """
import atexit, sys
from pathlib import Path
peak_file, sys.argv[1:] = Path(sys.argv[1]), sys.argv[2:]
def _peak():
    status = Path("/proc/self/status")
    if status.exists():
        hwm = [l for l in status.read_text().splitlines() if l.startswith("VmHWM:")]
        peak_file.write_text(hwm[0].split()[1] if hwm else "")
atexit.register(_peak)
from engine.cli import console_main
sys.exit(console_main())
"""


class ChildRun(NamedTuple):
    """One ``wardwatch`` child process: wall seconds, peak resident GB, exit code, and its CPU and
    page-fault counts (``getrusage`` of the waited-for child; zeros where ``resource`` is missing)."""

    wall: float
    peak_gb: float
    code: int
    user_s: float
    system_s: float
    minor_faults: int


def _children_usage() -> tuple[float, float, int]:
    """Cumulative (user s, system s, minor faults) of this process's waited-for children."""
    try:
        import resource
    except ImportError:  # not POSIX
        return 0.0, 0.0, 0
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def _child_peak(cmd: list[str], peak_file: Path) -> ChildRun:
    """Run ``wardwatch`` with ``cmd`` arguments and measure it (see :class:`ChildRun`).

    The peak comes from the child's VmHWM (Linux); elsewhere psutil samples its RSS every 20 ms.
    User and system CPU show how busy the two cores were over the wall time; minor faults count the
    pages the run touched for the first time (4 kB, or 2 MB for a transparent huge page), the cost
    that varies most on this VM.
    """
    import psutil

    before = _children_usage()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLI_WITH_PEAK, str(peak_file), *cmd],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sampled = 0
    with contextlib.suppress(psutil.Error):
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            sampled = max(sampled, ps.memory_info().rss)
            time.sleep(0.02)
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = _children_usage()
    assert proc.returncode == 0, err.decode()[-2000:]
    text = peak_file.read_text().strip() if peak_file.exists() else ""
    peak = int(text) * 1024 if text else sampled  # VmHWM is in kB
    user, system, faults = (a - b for a, b in zip(after, before, strict=True))
    return ChildRun(wall, peak / 1e9, proc.returncode, user, system, int(faults))


def _score_cmd(d: Dataset, out: Path) -> list[str]:
    return [
        "score",
        "--observations",
        str(d.observations),
        "--wards",
        str(d.wards),
        "--events",
        str(d.events),
        "--out",
        str(out),
    ]


# ---- stages ------------------------------------------------------------------------------------------
@pytest.mark.benchmark(group="national-stages")
def test_stage_load_validate(benchmark, national_dataset):
    d = national_dataset
    load = benchmark.pedantic(
        load_dataset,
        args=(d.observations, d.wards, d.events),
        kwargs={"catalogue": CATALOGUE},
        rounds=1,
        iterations=1,
    )
    record("1 load + validate", benchmark.stats.stats.min, "s", f"{load.total_read:,} rows")
    panels = _panels(load)
    t0 = time.perf_counter()
    panels = _panels(load)
    record(
        "1b dense panels",
        time.perf_counter() - t0,
        "s",
        ", ".join(f"{c} {p.shape[0]:,}x{p.shape[1]}" for c, p in panels.items()),
    )


@pytest.mark.benchmark(group="national-stages")
def test_stage_baselines(benchmark, national_load, national_scored):
    reg = national_load.wards
    ward_type = dict(zip(reg["ward_id"].to_list(), reg["ward_type"].to_list(), strict=True))

    def run():  # type: ignore[no-untyped-def]
        out = []
        for sc in national_scored.parts.values():
            p = sc.panel
            y = np.where(p.observed, p.y, np.nan)
            wtype = np.array([ward_type.get(w, "other") for w in p.ward_id])
            for fam in ("count", "proportion", "measure"):
                rows = np.nonzero(sc.family == fam)[0]
                if rows.size:
                    group = np.char.add(np.char.add(wtype[rows], "|"), p.indicator[rows].astype(str))
                    b = CFG.baselines if p.cadence == "weekly" else CFG.baselines_monthly
                    out.append(
                        fit_baselines(
                            y[rows], p.n[rows], fam, group=group, rebase=sc.rebase[rows], settings=b
                        )
                    )
        return out

    fits = benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=1)
    record(
        "2 baselines",
        benchmark.stats.stats.min,
        "s",
        f"{sum(f.expected_rate.shape[0] for f in fits):,} series",
    )


def _detectors(sc) -> int:  # type: ignore[no-untyped-def]
    """The early detectors the scoring runs: family CUSUM, EWMA, silence (counts), data silence."""
    p = sc.panel
    y = np.where(p.observed, p.y, np.nan)
    cells = 0
    for key in np.unique(p.indicator):
        ind = CATALOGUE[str(key)]
        if ind.domain == "context":
            continue
        rows = np.nonzero(p.indicator == key)[0]
        yy, nn, rr, dd = y[rows], p.n[rows], sc.expected_rate[rows], sc.dispersion[rows]
        common = {"direction": ind.direction, "restart": "none"}
        if ind.family == "proportion":
            det = BinomialCusum(**common)
        elif ind.family == "measure":
            det = PoissonCusum(family="measure", **common)
        else:
            det = NegBinCusum(**common)
        det.run(yy, nn, rr, dd)
        Ewma(direction=ind.direction, family=ind.family).run(yy, nn, rr, dd)
        if ind.family == "count" and ind.direction in ("down", "both"):
            Silence(family="count").run(yy, nn, rr, dd)
        cells += yy.size
    DataSilence().run(p.y, status=p.status)
    return cells


@pytest.mark.benchmark(group="national-stages")
def test_stage_detectors(benchmark, national_scored):
    parts = list(national_scored.parts.values())
    cells = benchmark.pedantic(
        lambda: sum(_detectors(sc) for sc in parts), rounds=1, iterations=1, warmup_rounds=1
    )
    record("3 CUSUM/EWMA/silence", benchmark.stats.stats.min, "s", f"{cells:,} series-periods")


@pytest.mark.benchmark(group="national-stages")
def test_stage_control_charts(benchmark, national_scored):
    def run():  # type: ignore[no-untyped-def]
        for sc in national_scored.parts.values():
            p = sc.panel
            groups = np.cumsum(sc.rebase, axis=1)
            chart_panel(p, settings=CFG.charts, groups=groups)
            improvement = [CATALOGUE[str(k)].improvement_direction for k in p.indicator]
            rate = np.where(p.observed, p.rate(), np.nan)
            xmr_monitor(rate, improvement, groups=groups, settings=CFG.charts, monitor=CFG.monitor)

    benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=1)
    record("4 control charts (display + monitoring)", benchmark.stats.stats.min, "s")


@pytest.mark.benchmark(group="national-stages")
def test_stage_changepoints(benchmark, national_scored):
    parts = list(national_scored.parts.values())
    res = benchmark.pedantic(
        lambda: [detect_panel(sc.panel, CFG.changepoint, catalogue=CATALOGUE) for sc in parts],
        rounds=1,
        iterations=1,
        warmup_rounds=1,
    )
    record(
        "5 change points (PELT, all series)",
        benchmark.stats.stats.min,
        "s",
        f"{sum(r.n_changes.size for r in res):,} series",
    )


@pytest.mark.benchmark(group="national-stages")
def test_stage_combination(benchmark, national_scored):
    ev = benchmark.pedantic(
        ward_evidence, args=(national_scored.parts, CFG.combination), rounds=1, iterations=1, warmup_rounds=1
    )
    record(
        "6 combination (domain CUSUMs, levels)",
        benchmark.stats.stats.min,
        "s",
        f"{ev.level.shape[0]:,} wards",
    )


@pytest.mark.benchmark(group="national-stages")
def test_stage_scoring_in_process(benchmark, national_load, national_scored):
    res = benchmark.pedantic(score, args=(national_load, CFG), rounds=1, iterations=1)
    record(
        "7 score() in process (panels -> alerts)",
        benchmark.stats.stats.min,
        "s",
        f"{res.alerts.height:,} alerts",
    )


@pytest.mark.benchmark(group="national-stages")
def test_stage_write_results(benchmark, national_dataset, national_load, national_scored, tmp_path):
    inputs = {"observations": national_dataset.observations}
    benchmark.pedantic(
        write_results, args=(national_scored, national_load, CFG, tmp_path, inputs), rounds=1, iterations=1
    )
    size = sum(f.stat().st_size for f in tmp_path.iterdir()) / 1e6
    record(
        "8 write results (incl. series table with charts)", benchmark.stats.stats.min, "s", f"{size:,.0f} MB"
    )


@pytest.mark.benchmark(group="national-end-to-end")
def test_end_to_end_national_cli(benchmark, national_dataset, tmp_path):
    """Three fresh ``wardwatch score`` processes: the median wall time is the headline (one run on a
    shared 2-core VM varies by +/- 1.5 s), with the fastest and slowest beside it; peak memory is the
    largest of the three."""
    cmd = _score_cmd(national_dataset, tmp_path / "out")
    runs: list[ChildRun] = []

    def once() -> ChildRun:
        runs.append(_child_peak(cmd, tmp_path / "peak"))
        return runs[-1]

    benchmark.pedantic(once, rounds=3, iterations=1)
    assert all(run.code == 0 for run in runs)
    assert (tmp_path / "out" / "series.parquet").exists()
    runs.sort(key=lambda run: run.wall)
    median = runs[1]
    note = f"target <= 10 s; 3 runs {runs[0].wall:.1f}-{runs[-1].wall:.1f} s"
    record("9 END TO END wardwatch score (national, median of 3)", median.wall, "s", note)
    record(
        "9b peak memory (national, largest of 3)", max(run.peak_gb for run in runs), "GB", "target <= 4 GB"
    )
    record(
        "9c CPU of the median run (user + system)",
        median.user_s + median.system_s,
        "s",
        f"user {median.user_s:.1f} s, system {median.system_s:.1f} s; "
        f"{median.minor_faults / 1e6:.2f} M minor page faults",
    )


# ---- demo trust --------------------------------------------------------------------------------------
@pytest.mark.benchmark(group="demo-trust")
def test_demo_trust_score_in_process(benchmark, demo_dataset, tmp_path):
    d = demo_dataset

    def run():  # type: ignore[no-untyped-def]
        load = load_dataset(d.observations, d.wards, d.events, catalogue=CATALOGUE)
        result = score(load, CFG)
        write_results(result, load, CFG, tmp_path, {"observations": d.observations})
        return result

    result = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert result.wards.ward_id.size == 40
    record("D1 demo trust load+score+write (warm)", benchmark.stats.stats.min, "s", "target < 1 s")


@pytest.mark.benchmark(group="demo-trust")
def test_demo_trust_cli(benchmark, demo_dataset, tmp_path):
    cmd = _score_cmd(demo_dataset, tmp_path / "out")
    _child_peak(cmd, tmp_path / "peak")  # numba caches on disk
    run = benchmark.pedantic(_child_peak, args=(cmd, tmp_path / "peak"), rounds=3, iterations=1)
    assert run.code == 0
    record(
        "D2 demo trust wardwatch score (fresh process)",
        benchmark.stats.stats.min,
        "s",
        f"peak {run.peak_gb:.2f} GB",
    )


# ---- plain baselines a user would otherwise write -----------------------------------------------------
def _python_loop_nb_cusum(y, mu, alpha, ratio):  # type: ignore[no-untyped-def]
    """One series, the obvious loop: NB log-likelihood-ratio CUSUM, missing periods carried over."""
    kappa = math.log(ratio)
    s, out = 0.0, []
    for yt, mt, at in zip(y, mu, alpha, strict=True):
        if math.isnan(yt) or math.isnan(mt) or math.isnan(at):
            out.append(s)
            continue
        if at > 0:
            z = kappa * yt + (yt + 1.0 / at) * (math.log1p(at * mt) - math.log1p(at * mt * ratio))
        else:
            z = kappa * yt + (1.0 - ratio) * mt
        s = max(0.0, s + z)
        out.append(s)
    return out


@pytest.mark.benchmark(group="national-vs-plain")
def test_cusum_vs_python_loop(benchmark, national_scored):
    sc = national_scored.parts["weekly"]
    p = sc.panel
    rows = np.nonzero(sc.family == "count")[0]
    y = np.where(p.observed, p.y, np.nan)[rows]
    n, rate, disp = p.n[rows], sc.expected_rate[rows], sc.dispersion[rows]
    det = NegBinCusum(direction="up", threshold=5.0, restart="none")
    det.run(y[:4], n[:4], rate[:4], disp[:4])
    res = benchmark.pedantic(det.run, args=(y, n, rate, disp), rounds=3, iterations=1)
    ours = benchmark.stats.stats.min
    sample = np.random.default_rng(0).choice(rows.size, 200, replace=False)
    t0 = time.perf_counter()
    theirs = [_python_loop_nb_cusum(y[i], rate[i] * n[i], disp[i], 1.5) for i in sample]
    per_series = (time.perf_counter() - t0) / sample.size
    np.testing.assert_allclose(np.array(theirs), res.sides[0].statistic[sample], rtol=1e-9, atol=1e-12)
    ratio = per_series * rows.size / ours
    print(
        f"\nNB CUSUM over {rows.size:,} weekly count series x {p.shape[1]} weeks: wardwatch {ours:.3f} s;"
        f" Python loop {per_series * 1e3:.2f} ms/series -> {per_series * rows.size:.1f} s; ratio {ratio:.0f}x"
    )
    record("R1 CUSUM: Python per-series loop / wardwatch", ratio, "x", f"wardwatch {ours:.3f} s")


@pytest.mark.benchmark(group="national-vs-plain")
def test_changepoints_vs_ruptures(benchmark, national_scored):
    """All weekly count/proportion series; BIC penalty, min_size 6, dispersion 1 (identical costs)."""
    sc = national_scored.parts["weekly"]
    p = sc.panel
    keep_rows = np.nonzero(np.isin(sc.family, ["count", "proportion"]))[0]
    y = np.where(p.observed, p.y, np.nan)[keep_rows]
    n = p.n[keep_rows]
    family = np.where(sc.family[keep_rows] == "count", "poisson", "binomial")
    settings = ChangePointSettings(penalty="bic", min_size=6, dispersion="none")
    detect_changepoints(y[:4], n[:4], settings, family=family[:4])
    res = benchmark.pedantic(
        detect_changepoints, args=(y, n, settings), kwargs={"family": family}, rounds=3, iterations=1
    )
    ours = benchmark.stats.stats.min
    sample = np.sort(np.random.default_rng(1).choice(keep_rows.size, 60, replace=False))
    t0 = time.perf_counter()
    found = []
    for i in sample:  # a per-series Python loop: what a user of ruptures writes
        ok = np.isfinite(y[i]) & np.isfinite(n[i]) & (n[i] > 0)
        if ok.sum() < 2 * 6:
            found.append((ok, None))
            continue
        algo = rpt.Pelt(custom_cost=RupturesCost(str(family[i])), min_size=6, jump=1)
        signal = np.column_stack([y[i, ok], n[i, ok]])
        found.append((ok, algo.fit(signal).predict(pen=2 * math.log(ok.sum()))))
    per_series = (time.perf_counter() - t0) / sample.size
    agree = sum(
        bk is None or [int(np.flatnonzero(ok)[b]) for b in bk[:-1]] == res.change_points(int(i))
        for i, (ok, bk) in zip(sample, found, strict=True)
    )
    ratio = per_series * keep_rows.size / ours
    print(
        f"\nchange points, {keep_rows.size:,} weekly series: wardwatch {ours:.2f} s; ruptures Pelt"
        f" {per_series * 1e3:.1f} ms/series -> {per_series * keep_rows.size:.0f} s; ratio {ratio:.0f}x;"
        f" identical segmentations {agree}/{sample.size}"
    )
    record(
        "R2 change points: ruptures Pelt / wardwatch", ratio, "x", f"wardwatch {ours:.2f} s, target >= 10x"
    )
    assert ratio >= 10
    assert agree >= 0.9 * sample.size  # ruptures prunes eagerly, not exact with min_size > 1
