"""A data + results folder from the real pipeline: ``wardwatch synth`` then ``wardwatch score --store``.

The dashboard tests run against what the README's commands produce, not a hand-made stand-in: a
small synthetic trust (20 wards x 120 weeks, fixed seed) scored with the default configuration
into ``DATA/results`` and the triage store ``DATA/.wardwatch/triage.db``. What the tests assert on
(the top-ranked ward, its alert and explanation) is read back from the written CSV files here,
independently of the dashboard's own readers.

``run_pipeline(..., hostile_name="<script>…", event_note="=HYPERLINK(…)")`` renames the top-ranked
ward and adds a note event on it, then scores again, to test escaping of hostile user text.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.contract.levels import LEVEL_RANK as LEVEL_ORDER

WARDS = 20
WEEKS = 120
SEED = 3


@dataclass(frozen=True)
class PipelinePaths:
    """Where the pipeline wrote things and what a test can assert on (read from the CSV files).

    ``episode_ward`` is the top-ranked ward (highest current level, then current evidence
    ``recent_evidence``, then score, then id);
    ``episode_alert_id``/``episode_explanation`` its open ward alert (else its latest one).
    """

    data_dir: Path
    results_dir: Path
    store: Path
    episode_ward: str
    episode_ward_name: str
    episode_level: str
    episode_alert_id: str
    episode_explanation: str
    episode_opened: dt.date
    provider: str
    provider_wards: int
    as_of: dt.date
    weeks: int


def _patch_register(data: Path, names: Mapping[str, str]) -> None:
    """Rename wards in ``wards.csv`` (ward id -> new name)."""
    wards = pl.read_csv(data / "wards.csv", infer_schema=False)
    new = pl.col("ward_id").replace_strict(dict(names), default=pl.col("ward_name"))
    wards = wards.with_columns(new.alias("ward_name"))
    wards.write_csv(data / "wards.csv")


def _append_event(data: Path, ward_id: str, date: dt.date, note: str) -> None:
    with (data / "events.csv").open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow([ward_id, date.isoformat(), "note", note])


def _score(data: Path, store: Path) -> None:
    from engine.cli import main as cli_main

    store.parent.mkdir(parents=True, exist_ok=True)
    assert cli_main(
        [
            "score",
            "--observations", str(data / "observations.csv"),
            "--wards", str(data / "wards.csv"),
            "--events", str(data / "events.csv"),
            "--out", str(data / "results"),
            "--store", str(store),
        ]
    ) == 0  # fmt: skip


def run_pipeline(
    root: Path,
    wards: int = WARDS,
    weeks: int = WEEKS,
    seed: int = SEED,
    hostile_name: str | None = None,
    event_note: str | None = None,
) -> PipelinePaths:
    """Synthesise and score with ``--store``; return what was written.

    ``hostile_name``/``event_note``: after a first scoring, rename the top-ranked ward and add a
    ``note`` event on it (user text), then score again, as a trust would after editing its register.
    """
    from engine.cli import main as cli_main

    data = root / "data"
    argv = ["synth", "--out", str(data), "--wards", str(wards), "--weeks", str(weeks), "--seed", str(seed)]
    assert cli_main(argv) == 0
    store = data / ".wardwatch" / "triage.db"
    _score(data, store)
    paths = describe(data, data / "results", store)
    if hostile_name or event_note:
        if hostile_name:
            _patch_register(data, {paths.episode_ward: hostile_name})
        if event_note:
            _append_event(data, paths.episode_ward, paths.as_of - dt.timedelta(weeks=4), event_note)
        _score(data, store)
        paths = describe(data, data / "results", store)
    return paths


def describe(data: Path, results: Path, store: Path) -> PipelinePaths:
    """Read the top-ranked ward and its alert straight from the written files."""
    status = pl.read_csv(results / "ward_status.csv", infer_schema=False).with_columns(
        pl.col("score", "recent_evidence").cast(pl.Float64).fill_nan(None).fill_null(0.0),
        pl.col("period").str.to_date("%Y-%m-%d"),
    )
    as_of = status["period"].max()
    last = (
        status.filter(pl.col("period") == as_of)
        .with_columns(pl.col("level").replace_strict(LEVEL_ORDER, return_dtype=pl.Int8).alias("o"))
        .sort(["o", "recent_evidence", "score", "ward_id"], descending=[True, True, True, False])
    )
    top = last.row(0, named=True)
    assert top["level"] in ("concern", "urgent"), "the fixture trust should have a ward at concern or above"
    register = pl.read_csv(data / "wards.csv", infer_schema=False)
    reg = register.filter(pl.col("ward_id") == top["ward_id"]).row(0, named=True)
    alerts = pl.read_csv(results / "alerts.csv", infer_schema=False)
    mine = alerts.filter((pl.col("ward_id") == top["ward_id"]) & (pl.col("scope") == "ward")).sort(
        "opened", descending=True
    )
    open_ = mine.filter(pl.col("closed").is_null() | (pl.col("closed") == ""))
    alert = (open_ if open_.height else mine).row(0, named=True)
    return PipelinePaths(
        data_dir=data,
        results_dir=results,
        store=store,
        episode_ward=top["ward_id"],
        episode_ward_name=reg["ward_name"],
        episode_level=top["level"],
        episode_alert_id=alert["alert_id"],
        episode_explanation=alert["explanation"],
        episode_opened=dt.date.fromisoformat(alert["opened"]),
        provider=reg["provider"],
        provider_wards=int((register["provider"] == reg["provider"]).sum()),
        as_of=as_of,
        weeks=status["period"].n_unique(),
    )
