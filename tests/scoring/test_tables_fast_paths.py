"""series.parquet blocks and the ward-status lists (compiled ordering + integer dedup vs polars)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from engine.config import Config
from engine.runtime.settings import RuntimeSettings
from engine.scoring.tables import _indicator_lists, _joined_labels


def _pipelined() -> Config:
    """Default settings with two worker threads: score_and_write pipelined on any machine."""
    return Config(runtime=RuntimeSettings(threads=2))


def _oracle(w, t, strength, labels, code) -> dict[tuple[int, int], str]:
    frame = (
        pl.DataFrame({"w": w, "t": t, "strength": strength, "indicator": [labels[c] for c in code]})
        .sort("w", "t", "strength", "indicator", descending=[False, False, True, False])
        .group_by("w", "t", maintain_order=True)
        .agg(pl.col("indicator").unique(maintain_order=True).str.join(";"))
    )
    return {(a, b): c for a, b, c in frame.iter_rows()}


@pytest.mark.parametrize("n_labels", [3, 25, 400])  # 400 labels: few codes fit an int64 key
def test_lists_match_the_polars_oracle(n_labels: int) -> None:
    rng = np.random.default_rng(n_labels)
    labels = sorted(f"k{i:03d}" for i in range(n_labels))
    n, t_count = 4000, 7
    w = rng.integers(0, 30, n)
    t = rng.integers(0, t_count, n)
    strength = rng.choice([0.0, -0.0, 0.5, 1.5, 100.0, 101.5], n)  # ties, signed zeros
    code = rng.integers(0, n_labels, n)  # repeats of a key within a cell too
    cells, sequences = _indicator_lists(w, t, strength, code, t_count)
    index, joined = _joined_labels(sequences, labels)
    texts = joined.to_list()
    got = {(int(c // t_count), int(c % t_count)): texts[i] for c, i in zip(cells, index, strict=True)}
    assert got == _oracle(w, t, strength, labels, code)
    assert len(set(texts)) == len(texts)  # each distinct list joined once


def test_no_cells() -> None:
    empty = np.zeros(0, dtype=np.int64)
    cells, sequences = _indicator_lists(empty, empty, np.zeros(0), empty, 5)
    index, texts = _joined_labels(sequences, ["a"])
    assert cells.size == 0 and index.size == 0 and texts.len() == 0


def test_series_blocks_do_not_change_rows(scored) -> None:
    """Charts and change points are computed block by block: any block size gives the same rows."""
    from engine.config import Config
    from engine.scoring.tables import _text_columns, series_blocks

    sc = scored.parts["weekly"]
    whole = pl.concat([_text_columns(b) for b in series_blocks(sc, Config(), block_series=10_000)])
    small = pl.concat([_text_columns(b) for b in series_blocks(sc, Config(), block_series=7)])
    assert whole.height > 0 and small.equals(whole)


def test_charts_computed_ahead_give_the_same_rows(scored) -> None:
    """Charts computed for the whole panel ahead (in blocks of any size) equal per-block charts."""
    from engine.config import Config
    from engine.scoring.tables import ChartArrays, _text_columns, series_blocks

    sc = scored.parts["weekly"]
    per_block = pl.concat([_text_columns(b) for b in series_blocks(sc, Config(), block_series=13)])
    for size in (5, 10_000):
        ahead = ChartArrays.of_panel(sc.panel, sc.rebase, Config(), block_series=size)
        blocks = series_blocks(sc, Config(), block_series=13, charts=ahead)
        assert pl.concat([_text_columns(b) for b in blocks]).equals(per_block)


def test_score_and_write_matches_score_then_write(loaded, scored, tmp_path) -> None:
    """The CLI's overlapped path (charts, change points and series.parquet on a worker thread) writes the
    same files as score() followed by write_results()."""
    from engine.config import Config
    from engine.scoring.outputs import score_and_write, write_results

    write_results(scored, loaded, Config(), tmp_path / "serial", {})
    result, paths = score_and_write(loaded, _pipelined(), tmp_path / "overlapped", {})
    for name in ("ward_status.csv", "alerts.csv"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "overlapped" / name).read_bytes()
    serial = pl.read_parquet(tmp_path / "serial" / "series.parquet")
    assert serial.height > 0 and serial.equals(pl.read_parquet(paths["series"]))
    assert result.alerts.equals(scored.alerts)


@pytest.mark.parametrize("threads", [2, 3])
def test_indicators_scored_on_threads_give_the_same_scores(loaded, scored, monkeypatch, threads) -> None:
    """Large panels score their indicators on ``[runtime] threads`` threads: every array equals the
    sequential run."""
    import dataclasses

    import engine.scoring.indicators as indicators
    from engine.scoring.run import score

    monkeypatch.setattr(indicators, "_THREADED_SERIES", 0)  # thread even this small trust
    threaded = score(loaded, Config(runtime=RuntimeSettings(threads=threads)))
    for cadence, sc in scored.parts.items():
        other = threaded.parts[cadence]
        for f in dataclasses.fields(sc):
            a, b = getattr(sc, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray) and a.dtype == object:
                assert a.tolist() == b.tolist(), f.name
            elif isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f.name  # floats as bit patterns
    assert threaded.alerts.equals(scored.alerts) and threaded.ward_status.equals(scored.ward_status)


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("size", [0, 1, 13, 1000])
def test_arrow_arrays_equal_pyarrows_own_conversion(dtype, size: int) -> None:
    """Buffers-built arrays equal ``pa.array`` value for value and type for type (NaN not null)."""
    import pyarrow as pa

    from engine.scoring.tables import _arrow

    rng = np.random.default_rng(size)
    values = rng.normal(size=2 * size) * 50
    if dtype is np.float64:
        values[::3] = np.nan
    values = (values > 0) if dtype is np.bool_ else values.astype(dtype)
    strided = values[::2]  # not contiguous: copied, not misread
    got, want = _arrow(strided), pa.array(strided)
    assert got.type == want.type and len(got) == len(want) and got.null_count == 0
    back = got.to_numpy(zero_copy_only=False)
    assert back.dtype == strided.dtype and back.tobytes() == strided.tobytes()  # NaN bit patterns too
    assert want.to_numpy(zero_copy_only=False).tobytes() == back.tobytes()


def test_strings_equal_pyarrows_own_conversion() -> None:
    import pyarrow as pa

    from engine.scoring.tables import _strings

    labels = ["", "W001", "ward é", "Ωmega", "x" * 300]
    assert _strings(labels).equals(pa.array(labels, type=pa.string()))
    assert _strings([]).equals(pa.array([], type=pa.string()))


_NO_PANDAS_PROBE = """
import sys, tempfile
from pathlib import Path
from engine.cli import main
from synthetic import TrustSpec, generate, write_trust
with tempfile.TemporaryDirectory() as d:
    paths = write_trust(generate(TrustSpec(n_wards=12, n_weeks=120), seed=3), Path(d))
    files = ["--observations", str(paths["observations"]), "--wards", str(paths["wards"])]
    assert main(["score", *files, "--out", str(Path(d) / "out")]) == 0
    assert (Path(d) / "out" / "series.parquet").stat().st_size > 0
print("pandas" in sys.modules)
"""


def test_scoring_does_not_import_pandas() -> None:
    """``wardwatch score`` never imports pandas: pyarrow's ``pa.array`` would (~0.5 s holding the GIL)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _NO_PANDAS_PROBE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("taker", ["writer", "main"])
def test_later_cadence_charts_taken_by_the_thread_free_first(
    loaded, scored, tmp_path, monkeypatch, taker
) -> None:
    """The monthly charts are computed once, by the writer or by the main thread (forced here with
    events), and the files are the same either way."""
    import threading

    import engine.scoring.outputs as outputs
    from engine.config import Config
    from engine.scoring.tables import ChartArrays

    assert sorted(scored.parts) == ["monthly", "weekly"]
    computed: list[tuple[str, str]] = []
    of_panel = ChartArrays.of_panel.__func__  # type: ignore[attr-defined]

    def recording(cls, panel, *args, **kwargs):  # type: ignore[no-untyped-def]
        computed.append((panel.cadence, threading.current_thread().name))
        return of_panel(cls, panel, *args, **kwargs)

    monkeypatch.setattr(ChartArrays, "of_panel", classmethod(recording))
    monkeypatch.setattr(outputs, "threads_may_share_kernels", lambda: True)
    first_done = threading.Event()
    write_series, finish_scoring, write_tables = (
        outputs.write_series,
        outputs.finish_scoring,
        outputs._write_tables,
    )
    if taker == "writer":  # the main thread builds its alerts only once the writer has finished

        def writer(*args, **kwargs):  # type: ignore[no-untyped-def]
            try:
                return write_series(*args, **kwargs)
            finally:
                first_done.set()

        def finishing(*args, **kwargs):  # type: ignore[no-untyped-def]
            assert first_done.wait(120)
            return finish_scoring(*args, **kwargs)

        monkeypatch.setattr(outputs, "write_series", writer)
        monkeypatch.setattr(outputs, "finish_scoring", finishing)
    else:  # the writer starts only once the main thread has written its tables

        def writer(*args, **kwargs):  # type: ignore[no-untyped-def]
            assert first_done.wait(120)
            return write_series(*args, **kwargs)

        def tables(*args, **kwargs):  # type: ignore[no-untyped-def]
            write_tables(*args, **kwargs)
            first_done.set()

        monkeypatch.setattr(outputs, "write_series", writer)
        monkeypatch.setattr(outputs, "_write_tables", tables)
    result, paths = outputs.score_and_write(loaded, _pipelined(), tmp_path / "out", {})
    monthly = [name for cadence, name in computed if cadence == "monthly"]
    weekly = [name for cadence, name in computed if cadence == "weekly"]
    assert len(monthly) == 1 and len(weekly) == 1 and weekly[0].startswith("series")
    assert monthly[0].startswith("series") == (taker == "writer")
    serial = tmp_path / "serial"
    outputs.write_results(scored, loaded, Config(), serial, {})
    assert pl.read_parquet(serial / "series.parquet").equals(pl.read_parquet(paths["series"]))
    assert (serial / "alerts.csv").read_bytes() == (tmp_path / "out" / "alerts.csv").read_bytes()
    assert result.alerts.equals(scored.alerts)


def test_once_job_runs_once_and_hands_on_its_error() -> None:
    import threading

    from engine.runtime.jobs import OnceJob

    calls: list[str] = []
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        calls.append(threading.current_thread().name)
        started.set()
        assert release.wait(30)
        return 7

    job = OnceJob(slow)
    got: list[int] = []
    other = threading.Thread(target=lambda: got.append(job.result()), name="other")
    other.start()
    assert started.wait(30)
    job.run()  # already started elsewhere: returns at once
    release.set()
    assert job.result() == 7
    other.join(30)
    assert got == [7] and calls == ["other"]

    def fails() -> int:
        raise RuntimeError("chart failed")

    bad = OnceJob(fails)
    bad.run()  # the error is kept for whoever needs the result
    with pytest.raises(RuntimeError, match="chart failed"):
        bad.result()
