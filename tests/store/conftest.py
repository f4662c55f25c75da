"""Fixtures for the triage-store tests: a store with a deterministic clock and an alert factory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.store import AlertRecord, TriageStore

# store_workers (shared with the child processes) sits next to this file; pytest's default import
# mode puts this folder on sys.path for the test modules, this makes it explicit for every mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))


class Clock:
    """A fake UTC clock: each call returns one second later than the previous one."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)) -> None:
        self._ticks = itertools.count()
        self.start = start

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=next(self._ticks))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".wardwatch" / "triage.db"


@pytest.fixture
def store(db_path: Path, clock: Clock) -> TriageStore:
    return TriageStore(db_path, clock=clock)


@pytest.fixture
def record() -> Callable[..., AlertRecord]:
    """``record(i, **changes)``: the i-th synthetic alert, with fields replaced by ``changes``."""

    from store_workers import make_record

    def make(i: int = 0, **changes: object) -> AlertRecord:
        return dataclasses.replace(make_record(i), **changes)

    return make
