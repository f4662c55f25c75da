"""series.parquet blocks and the ward-status lists (compiled ordering + integer dedup vs polars)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from engine.scoring.tables import _indicator_lists, _joined_labels


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
    result, paths = score_and_write(loaded, Config(), tmp_path / "overlapped", {})
    for name in ("ward_status.csv", "alerts.csv"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "overlapped" / name).read_bytes()
    serial = pl.read_parquet(tmp_path / "serial" / "series.parquet")
    assert serial.height > 0 and serial.equals(pl.read_parquet(paths["series"]))
    assert result.alerts.equals(scored.alerts)


def test_indicators_scored_on_two_threads_give_the_same_scores(loaded, scored, monkeypatch) -> None:
    """Large panels score their indicators on two threads: every array equals the sequential run."""
    import dataclasses

    import engine.scoring.indicators as indicators
    from engine.scoring.run import score

    monkeypatch.setattr(indicators, "_THREADED_SERIES", 0)  # thread even this small trust
    threaded = score(loaded)
    for cadence, sc in scored.parts.items():
        other = threaded.parts[cadence]
        for f in dataclasses.fields(sc):
            a, b = getattr(sc, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray) and a.dtype == object:
                assert a.tolist() == b.tolist(), f.name
            elif isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f.name  # floats as bit patterns
    assert threaded.alerts.equals(scored.alerts) and threaded.ward_status.equals(scored.ward_status)
