"""Write a scoring run's results folder (see docs/results-contract.md) and record its provenance.

The reference path is :func:`engine.scoring.run.score` then :func:`write_results`: one step after
the other, easy to read. :func:`score_and_write` (what ``wardwatch score`` runs) writes the same
files byte for byte (tests/scoring/test_pipelined_output.py); with more than one worker thread
(``[runtime] threads``) it overlaps scoring, charts and writing, an implementation detail kept in
this module (:func:`_score_and_write_pipelined`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from engine.config import Config
from engine.io import LoadResult
from engine.io.safe_csv import write_safe_csv
from engine.runtime.blas import blas_threads
from engine.runtime.jobs import OnceJob
from engine.runtime.kernels import threads_may_share_kernels
from engine.scoring.indicators import SeriesScores
from engine.scoring.run import (
    CadencePanels,
    ScoreResult,
    cadence_panels,
    finish_scoring,
    panel_evidence,
    score,
)
from engine.scoring.tables import ChartArrays, write_series

log = logging.getLogger(__name__)


def wardwatch_version() -> str:
    """Installed wardwatch version (``unknown`` when run from an uninstalled tree)."""
    try:
        return version("wardwatch")
    except PackageNotFoundError:
        return "unknown"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _paths(out: str | Path) -> dict[str, Path]:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "ward_status": out_dir / "ward_status.csv",
        "alerts": out_dir / "alerts.csv",
        "series": out_dir / "series.parquet",
        "run": out_dir / "run.json",
    }


def write_results(
    result: ScoreResult,
    load: LoadResult,
    config: Config,
    out: str | Path,
    inputs: dict[str, str | Path | None],
    with_charts: bool = True,
) -> dict[str, Path]:
    """Write ward_status.csv, alerts.csv, reporting.csv, series.parquet, run.json and (if any)
    rejected.csv: the reference writer (see the module docstring)."""
    paths = _paths(out)
    _write_tables(result, load, paths)
    result.write_series(paths["series"], config, with_charts=with_charts)
    return _write_run(result, load, config, paths, inputs)


def score_and_write(
    load: LoadResult,
    config: Config,
    out: str | Path,
    inputs: dict[str, str | Path | None],
    as_of: dt.date | None = None,
    with_charts: bool = True,
) -> tuple[ScoreResult, dict[str, Path]]:
    """Score ``load`` and write its results folder: the same files as
    ``write_results(score(load, config, as_of), load, config, out, inputs, with_charts)``.

    With ``config.runtime.worker_threads() > 1`` the work is pipelined
    (:func:`_score_and_write_pipelined`), otherwise it is exactly that reference path; BLAS runs on
    ``config.runtime.blas_threads`` threads meanwhile. Pass a
    ``load`` nobody else holds: the pipelined path frees its observation rows once the panels exist.
    """
    threads = config.runtime.worker_threads()
    log.info("scoring into %s (%d worker thread(s))", out, threads)
    with blas_threads(config.runtime.blas_threads):
        if threads < 2:
            result = score(load, config, as_of)
            return result, write_results(result, load, config, out, inputs, with_charts)
        data = cadence_panels(load.coded, load.events, load.cadence, config, as_of)
        # the panels hold the data now: drop the observation rows (the largest arrays) before
        # scoring; this frame's name is the last reference to them, so rebind it (not a copy below)
        load = dataclasses.replace(load, coded=load.coded.clear())
        paths = _paths(out)
        result = _score_and_write_pipelined(data, load, config, paths, as_of, with_charts)
        return result, _write_run(result, load, config, paths, inputs)


def _score_and_write_pipelined(
    data: CadencePanels,
    load: LoadResult,
    config: Config,
    paths: dict[str, Path],
    as_of: dt.date | None,
    with_charts: bool,
) -> ScoreResult:
    """:func:`score_and_write` up to run.json (the caller writes it into ``paths``), overlapping its
    steps (the fast path of ``wardwatch score`` on a national panel, 2 cores):

    * Charts and change points need only the data, so a worker thread computes them as soon as the
      dense panels exist, while this thread scores the panels (mostly single-threaded numpy); skipped
      (each block of series.parquet then computes its own) when numba's threading layer cannot run
      parallel kernels from two threads at once. The worker computes the first cadence's (weekly)
      charts up front; the other cadences' charts are computed by whichever thread is free first:
      the writer when it reaches them, or this thread once the alerts are built.
    * ``series.parquet`` (charts, change points and ~12 M rows) is written by the worker thread as
      soon as the per-series scores exist, while this thread combines the ward evidence and builds
      the alerts and the ward-status table from the same read-only arrays; the compiled kernels and
      pyarrow release the GIL.
    * The panels (``data``) are built from the loader's coded rows (``load.coded``: no text column
      per row), and :func:`score_and_write` releases those rows as soon as the panels exist, before
      any scoring: pass a ``load`` nobody else holds (e.g. ``score_and_write(load_dataset(...),
      ...)``) and its memory is reused by the scores (``load`` here has no rows).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="series") as pool:
        charts: dict[str, OnceJob[ChartArrays]] = {}
        if with_charts and threads_may_share_kernels():
            # charts and change points need only the data (and the rebase events)
            for cad, panel in data.panels.items():
                charts[cad] = OnceJob(partial(ChartArrays.of_panel, panel, data.rebase[cad], config))
            pool.submit(next(iter(charts.values())).run)  # the first (largest) cadence: the worker
        series: list[Future[int]] = []

        def start_series(parts: dict[str, SeriesScores]) -> None:
            # queued behind the first chart job on the same worker: this thread goes on to the evidence
            series.append(
                pool.submit(
                    write_series, parts, config, paths["series"], with_charts, _ChartsOnDemand(charts)
                )
            )

        parts, ev, provider = panel_evidence(data, load.wards, config, on_scores=start_series)
        enabled = data.enabled
        del data
        try:
            result = finish_scoring(parts, ev, enabled, provider, config, as_of)
            for job in charts.values():  # charts the writer has not reached yet: computed here
                job.run()
            _write_tables(result, load, paths)
        finally:
            series[0].result()  # waits for the writer and re-raises its error
    return result


class _ChartsOnDemand(Mapping[str, ChartArrays]):
    """Charts per cadence, each computed (or waited for) when :func:`write_series` reaches it."""

    def __init__(self, jobs: dict[str, OnceJob[ChartArrays]]) -> None:
        self._jobs = jobs

    def __getitem__(self, cadence: str) -> ChartArrays:
        return self._jobs[cadence].result()

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)


def _write_tables(result: ScoreResult, load: LoadResult, paths: dict[str, Path]) -> None:
    """Write ward_status.csv, alerts.csv and (if rows were rejected) rejected.csv; adds their paths."""
    result.ward_status.write_csv(paths["ward_status"], float_precision=6)
    result.alerts.write_csv(paths["alerts"], float_precision=6)
    # data-silence episodes and reporting resumptions (docs/results-contract.md: reporting.csv)
    result.reporting.write_csv(paths["run"].parent / "reporting.csv", float_precision=6)
    rejected_path = paths["run"].parent / "rejected.csv"
    if load.n_rejected:
        write_safe_csv(load.rejected.select("file", "line", "column", "value", "reason"), rejected_path)
        paths["rejected"] = rejected_path
    elif rejected_path.is_file() and _written_by_us(rejected_path):
        rejected_path.unlink()  # a previous run's list, now stale; a file of the user's is left alone


def _written_by_us(path: Path) -> bool:
    """Whether ``path`` starts with the header wardwatch writes for rejected.csv."""
    with path.open("rb") as fh:
        return fh.readline().strip() == b"file,line,column,value,reason"


def _write_run(
    result: ScoreResult,
    load: LoadResult,
    config: Config,
    paths: dict[str, Path],
    inputs: dict[str, str | Path | None],
) -> dict[str, Path]:
    """Write run.json, the run's provenance (written last: a folder with it is complete)."""
    run = {
        "wardwatch_version": wardwatch_version(),
        "scored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "as_of": None if result.as_of is None else result.as_of.isoformat(),
        "inputs": {
            role: {"path": str(p), "sha256": file_sha256(p)} for role, p in inputs.items() if p is not None
        },
        "rows": {"read": load.total_read, "rejected": load.n_rejected},
        "cadence": load.cadence,
        "config_sha256": config.digest(),
        "config": config.to_dict(),
        "alerts": result.alerts.group_by("scope", "level").len().sort("scope", "level").to_dicts(),
        "grid": {
            "cadence": result.wards.cadence,
            "first": str(result.wards.periods[0]),
            "last": str(result.wards.periods[-1]),
            "wards": len(result.wards.ward_id),
        },
    }
    paths["run"].write_text(json.dumps(run, indent=2, default=str), encoding="utf-8")
    log.info("results written to %s (%d alerts)", paths["run"].parent, result.alerts.height)
    return paths
