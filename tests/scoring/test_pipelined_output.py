"""The reference path (``score`` then ``write_results``) and the pipelined ``score_and_write`` (what
``wardwatch score`` runs) write byte-identical results folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.config import Config
from engine.io import load_dataset
from engine.runtime.settings import RuntimeSettings
from engine.scoring.outputs import score_and_write, write_results
from engine.scoring.run import score


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of a results folder; run.json without its timestamp and the thread settings (the
    fields that differ: ``[runtime]`` is left out of the configuration digest)."""
    out = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    run = json.loads(out["run.json"])
    assert run.pop("scored_at")
    assert run["config"].pop("runtime")
    out["run.json"] = json.dumps(run, sort_keys=True).encode()
    return out


@pytest.mark.parametrize("with_charts", [True, False])
def test_pipelined_files_are_byte_identical_to_the_reference(trust_files, tmp_path, with_charts) -> None:
    _, paths = trust_files
    inputs = {role: paths[role] for role in ("observations", "wards", "events")}

    def load():  # type: ignore[no-untyped-def]  # a fresh load each: the pipelined path frees its rows
        return load_dataset(paths["observations"], paths["wards"], paths["events"])

    reference = Config(runtime=RuntimeSettings(threads=1))
    write_results(score(load(), reference), load(), reference, tmp_path / "reference", inputs, with_charts)
    pipelined = Config(runtime=RuntimeSettings(threads=2))
    result, written = score_and_write(
        load(), pipelined, tmp_path / "pipelined", inputs, with_charts=with_charts
    )
    ref, pipe = _files(tmp_path / "reference"), _files(tmp_path / "pipelined")
    assert {"ward_status.csv", "alerts.csv", "reporting.csv", "series.parquet", "run.json"} <= set(ref)
    assert ref.keys() == pipe.keys()
    for name in ref:
        assert ref[name] == pipe[name], name
    assert result.alerts.height > 0 and written["series"].stat().st_size > 0


def test_one_worker_thread_runs_the_reference_path(loaded, tmp_path, monkeypatch, caplog, capsys) -> None:
    """``[runtime] threads = 1``: score_and_write is score() then write_results(), nothing overlapped;
    the run is logged (engine.scoring loggers), never printed."""
    import logging

    import engine.scoring.outputs as outputs

    def no_pipeline(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the pipelined path ran")

    monkeypatch.setattr(outputs, "_score_and_write_pipelined", no_pipeline)
    config = Config(runtime=RuntimeSettings(threads=1))
    with caplog.at_level(logging.DEBUG, logger="engine.scoring"):
        result, paths = score_and_write(loaded, config, tmp_path / "out", {}, with_charts=False)
    assert paths["series"].is_file() and result.alerts.height > 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("1 worker thread" in m for m in messages)
    assert any(m.startswith("weekly panel:") for m in messages)
    assert any(f"{result.alerts.height} alerts" in m for m in messages)
    assert capsys.readouterr().out == ""


def test_pipelined_path_frees_the_observation_rows_before_scoring(trust_files, tmp_path, monkeypatch) -> None:
    """The loader's row arrays (the largest at national scale) are gone once the panels exist: no
    frame of score_and_write keeps the caller's load alive while the panels are scored."""
    import gc
    import weakref

    import engine.scoring.outputs as outputs

    _, paths = trust_files
    loads = [load_dataset(paths["observations"], paths["wards"], paths["events"])]
    numerators = weakref.ref(loads[0].coded.numerator)
    alive_when_scoring: list[bool] = []
    panel_evidence = outputs.panel_evidence

    def scoring(*args, **kwargs):  # type: ignore[no-untyped-def]
        gc.collect()
        alive_when_scoring.append(numerators() is not None)
        return panel_evidence(*args, **kwargs)

    monkeypatch.setattr(outputs, "panel_evidence", scoring)
    config = Config(runtime=RuntimeSettings(threads=2))
    score_and_write(loads.pop(), config, tmp_path / "out", {}, with_charts=False)
    assert alive_when_scoring == [False]
