"""Write a scoring run's results folder (see docs/results-contract.md) and record its provenance."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Generic, TypeVar

from engine.config import Config
from engine.detectors._parallel import threads_may_share_kernels
from engine.io import LoadResult
from engine.io.safe_csv import write_safe_csv
from engine.scoring.indicators import SeriesScores
from engine.scoring.reporting import scores_reporting
from engine.scoring.run import ScoreResult, cadence_panels, finish_scoring, panel_evidence
from engine.scoring.tables import ChartArrays, write_series

T = TypeVar("T")


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
    """Write ward_status.csv, alerts.csv, series.parquet, run.json and (if any) rejected.csv."""
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
    """Score ``load`` and write its results folder (the same files as :func:`score` + :func:`write_results`).

    What makes this the fast path of ``wardwatch score`` on a national panel (2 cores):

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
    * The panels are built from the loader's coded rows (``load.coded``: no text column per row),
      and those rows are released as soon as the panels exist, before any scoring:
      pass a ``load`` nobody else holds (e.g. ``score_and_write(load_dataset(...), ...)``) and its
      memory is reused by the scores.
    """
    data = cadence_panels(load.coded, load.events, load.cadence, config, as_of)
    # the panels hold the data now: drop the observation rows (the largest arrays) before scoring
    load = dataclasses.replace(load, coded=load.coded.clear())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="series") as pool:
        charts: dict[str, _OnceJob[ChartArrays]] = {}
        if with_charts and threads_may_share_kernels():
            # charts and change points need only the data (and the rebase events)
            for cad, panel in data.panels.items():
                rebase = data.rebase[cad]
                charts[cad] = _OnceJob(partial(ChartArrays.of_panel, panel, rebase, config))
            pool.submit(next(iter(charts.values())).run)  # the first (largest) cadence: the worker
        paths = _paths(out)
        series: list[Future[int]] = []

        def start_series(parts: dict[str, SeriesScores]) -> None:
            # queued behind the first chart job on the same worker: this thread goes on to the evidence
            series.append(
                pool.submit(write_series, parts, config, paths["series"], with_charts, _Charts(charts))
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
    return result, _write_run(result, load, config, paths, inputs)


class _OnceJob(Generic[T]):
    """A computation run once, by whichever thread asks first; a later caller of :meth:`result`
    waits for it (or re-raises its error). Lets the thread that is idle first take it on."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute: Callable[[], T] | None = compute
        self._lock = threading.Lock()
        self._done: Future[T] = Future()

    def run(self) -> None:
        """Compute now unless another thread has started: then return at once."""
        with self._lock:
            compute, self._compute = self._compute, None
        if compute is None:
            return
        try:
            self._done.set_result(compute())
        except BaseException as exc:  # handed to result(), in whichever thread waits
            self._done.set_exception(exc)

    def result(self) -> T:
        """The result, computed here if nobody has started it."""
        self.run()
        return self._done.result()


class _Charts(Mapping[str, ChartArrays]):
    """Charts per cadence, each computed (or waited for) when :func:`write_series` reaches it."""

    def __init__(self, jobs: dict[str, _OnceJob[ChartArrays]]) -> None:
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
    scores_reporting(result.parts).write_csv(paths["run"].parent / "reporting.csv", float_precision=6)
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
    return paths
