"""Helpers shared by the store tests and the child processes they start (run as a script).

As a script: ``python store_workers.py MODE DB [ARGS...]``; it prints one line per committed write
(flushed straight after the commit), so the parent knows exactly what was committed before it
killed the child. Modes:

* ``upsert DB N_BATCHES BATCH_SIZE PAUSE_BATCH``: upsert N batches of fresh alerts, one transaction
  each; prints ``progress B DONE`` from inside the transaction and ``committed B`` after each commit.
  In batch PAUSE_BATCH (``-1``: never) it stops halfway through the transaction and sleeps, so a
  kill is certain to land inside an open write transaction.
* ``triage DB ALERT_ID N``: N iterations of: add a note (prints ``note ID I``), and move the alert
  one step round the lifecycle ack -> investigate -> close -> reopen (prints ``state VERSION STATUS``).
* ``race DB NAME N_NOTES``: the two-writer race used by the concurrency test (see that test).
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.store import AlertRecord, StaleWriteError, TriageStore  # noqa: E402

LEVELS = ("watch", "concern", "urgent")


def make_record(i: int, prefix: str = "A", explanation_chars: int = 80) -> AlertRecord:
    """A deterministic synthetic alert number ``i`` (ward alerts on even i, indicator alerts on odd)."""
    opened = dt.date(2026, 1, 5) + dt.timedelta(weeks=i % 20)
    ward = f"W{i % 7:02d}"
    indicator = None if i % 2 == 0 else ("restraint", "complaints", "safeguarding_referrals")[i % 3]
    text = f"Alert {i}: restraint averaged {5 + i % 4}.1 per 1,000 bed days <b>& “quotes”</b> "
    return AlertRecord(
        alert_id=f"{prefix}{i:06d}",
        ward_id=ward,
        scope="ward" if indicator is None else "indicator",
        indicator=indicator,
        method="combined" if indicator is None else "cusum_poisson",
        level=LEVELS[1 + i % 2] if indicator is None else "watch",
        direction="up",
        opened=opened,
        onset_estimate=opened - dt.timedelta(weeks=2),
        last_seen=opened + dt.timedelta(weeks=3),
        closed=None,
        statistic=4.0 + (i % 10) / 10,
        threshold=3.5,
        explanation=(text * (explanation_chars // len(text) + 1))[:explanation_chars],
    )


def note_text(name: str, i: int) -> str:
    """The exact text a child writes as its i-th note (non-ASCII, markup and newlines on purpose)."""
    return f"{name} note {i}: seen <script>x</script> & ‘ward’ café\nsecond line\t{i * 7919}"


class Child:
    """A child process running this file, with its stdout lines collected by a thread."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(ROOT),
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, predicate, limit_s: float = 120.0) -> str:  # type: ignore[no-untyped-def]
        """Collect lines until one satisfies ``predicate``; return it (fail if the child ends first)."""
        deadline = time.monotonic() + limit_s
        while True:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"child produced no matching line; last lines {self.lines[-5:]}"
                ) from None
            if line is None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"child ended early (rc={self.proc.wait()}): {err[-2000:]}")
            self.lines.append(line)
            if predicate(line):
                return line

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self, limit_s: float = 120.0) -> list[str]:
        """Wait for a normal exit; return every stdout line. Fails on a non-zero exit code."""
        rc = self.proc.wait(timeout=limit_s)
        while (line := self._queue.get(timeout=limit_s)) is not None:
            self.lines.append(line)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        assert rc == 0, f"child failed (rc={rc}): {err[-2000:]}"
        return self.lines

    def kill(self) -> None:
        """SIGKILL the child and reap it; then drain what it printed before dying."""
        self.proc.kill()
        self.proc.wait(timeout=30)
        while (line := self._queue.get(timeout=30)) is not None:
            self.lines.append(line)


def _say(*parts: object) -> None:
    print(*parts, flush=True)


def _upsert(db: str, n_batches: int, size: int, pause_batch: int) -> None:
    store = TriageStore(db)
    for b in range(n_batches):
        records = [make_record(i, prefix=f"B{b:02d}-", explanation_chars=300) for i in range(size)]

        def progress(done: int, total: int, b: int = b) -> None:
            _say("progress", b, done)
            if b == pause_batch and done >= total // 2:
                time.sleep(600)  # killed here, inside the open transaction

        store.upsert_alerts(records, scored_at=dt.datetime(2026, 3, 2, 6, 0, b), progress=progress)
        _say("committed", b)


def _triage(db: str, alert_id: str, n: int) -> None:
    store = TriageStore(db)
    for i in range(n):
        note = store.add_note(alert_id, "child", note_text("child", i))
        _say("note", note.id, i)
        a = store.get(alert_id).alert
        if a.status == "new":
            a = store.acknowledge(alert_id, "child", a.version)
        elif a.status == "acknowledged":
            a = store.start_investigation(alert_id, "child", a.version, assignee=f"nurse {i}")
        elif a.status == "investigating":
            a = store.close(alert_id, "child", "no_concern", a.version, note=f"closing {i}")
        else:
            a = store.reopen(alert_id, "child", f"reopen {i}", a.version)
        _say("state", a.version, a.status)


def _race(db: str, name: str, n_notes: int) -> None:
    """Acknowledge R000000..R000019 from versions read *before* the start signal; add notes; bump a counter."""
    store = TriageStore(db)
    race_ids = [f"R{j:06d}" for j in range(20)]
    seen = {a: store.get(a).alert.version for a in race_ids}
    _say("ready")
    sys.stdin.readline()  # the parent releases both children at once
    for j, alert_id in enumerate(race_ids):
        try:
            store.acknowledge(alert_id, name, seen[alert_id])
            _say("ack", alert_id, "ok")
        except StaleWriteError:
            _say("ack", alert_id, "stale")
        for k in range(j * n_notes // 20, (j + 1) * n_notes // 20):
            note = store.add_note("N000000", name, note_text(name, k))
            _say("note", note.id, k)
    for k in range(25):  # read-modify-write with retry: every assignment must land exactly once
        while True:
            version = store.get("C000000").alert.version
            try:
                store.assign("C000000", name, f"{name}-{k}", version)
                break
            except StaleWriteError:
                _say("retry", k)
        _say("assigned", k)
    _say("done")


if __name__ == "__main__":
    mode, db, *rest = sys.argv[1:]
    if mode == "upsert":
        _upsert(db, int(rest[0]), int(rest[1]), int(rest[2]))
    elif mode == "triage":
        _triage(db, rest[0], int(rest[1]))
    elif mode == "race":
        _race(db, rest[0], int(rest[1]))
    else:
        raise SystemExit(f"unknown mode {mode}")
