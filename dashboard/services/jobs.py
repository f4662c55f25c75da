"""Background jobs of the dashboard: long work in a worker process, with progress, cancel and a cache.

A job is a *kind* (a registered function) and a JSON *spec*; its key is the SHA-256 of both, so the
same inputs give the same job and a finished job is served from disk ("cached by input hash"). Each
job lives in ``ROOT/<key>/``:

* ``spec.json``: kind and spec; ``status.json``: state, progress, message, result summary (written
  atomically, so a reader never sees half a file);
* ``heartbeat``: touched every second by the worker; a ``running`` job whose heartbeat is older
  than :data:`STALE_SECONDS` (or whose process is gone) was killed or crashed and reads as
  ``failed``;
* ``work/``: the worker's scratch folder, renamed to ``result/`` only when the job succeeded. A
  failed, cancelled or killed job leaves no ``result/`` and changes nothing else (what a job
  publishes elsewhere, e.g. swapping in new results, it does in one atomic step at its very end).

The worker is ``python -m dashboard.services.jobs ROOT/<key>``, started in its own session, so the
Streamlit server stays responsive, a page reload (a new session) finds the job by its key or as
the latest of its kind, and cancelling kills the worker's whole process group.

A job function takes ``(spec, work_dir, report)`` and returns a JSON-able summary;
``report(done, total, message)`` records progress.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: job kinds: name -> "module:function".
KINDS: dict[str, str] = {
    "tradeoff": "dashboard.services.lab_sweep:run_tradeoff_job",
    "rescore": "dashboard.services.rescore:run_rescore_job",
}
#: a running job whose heartbeat is older than this (seconds) is taken as killed.
STALE_SECONDS = 15.0
HEARTBEAT_SECONDS = 1.0
#: finished jobs are kept (and served from the cache) this many days after they last changed.
KEEP_DAYS = 30
ACTIVE = ("queued", "running")
Report = Callable[[int, int, str], None]

#: workers started by this process (reaped on status reads so a finished worker is no zombie).
_PROCS: dict[str, subprocess.Popen] = {}


@dataclass(frozen=True)
class JobStatus:
    """What a page shows about a job (``state``: queued, running, done, failed, cancelled)."""

    key: str
    kind: str
    state: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""
    submitted: str = ""
    finished: str = ""
    pid: int = 0
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def fraction(self) -> float:
        """Progress from 0 to 1."""
        return min(1.0, self.done / self.total) if self.total else 0.0


def job_key(kind: str, spec: dict[str, Any]) -> str:
    """The job's key: SHA-256 of its kind and canonical spec (first 16 hex digits)."""
    text = json.dumps({"kind": kind, "spec": spec}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is not alive
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


class JobRunner:
    """Jobs under one folder (the dashboard uses ``DATA/.wardwatch/jobs``)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def folder(self, key: str) -> Path:
        return self.root / key

    def result_dir(self, key: str) -> Path:
        """The finished job's output folder (exists only after success)."""
        return self.folder(key) / "result"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def status(self, key: str) -> JobStatus | None:
        """The job's status (``None`` when unknown); a dead running job reads as failed."""
        folder = self.folder(key)
        try:
            data = json.loads((folder / "status.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        status = JobStatus(**{k: v for k, v in data.items() if k in JobStatus.__dataclass_fields__})
        proc = _PROCS.get(key)
        if proc is not None and proc.poll() is not None:
            _PROCS.pop(key, None)
        if status.active and not self._alive(folder, status):
            status = self._mark(
                key,
                state="failed",
                error="the worker stopped before finishing (killed or crashed); nothing was changed",
                finished=_now(),
            )
        if status.state == "done" and not self.result_dir(key).is_dir():
            return None  # result folder removed by hand: run again
        return status

    def _alive(self, folder: Path, status: JobStatus) -> bool:
        try:
            age = time.time() - (folder / "heartbeat").stat().st_mtime
        except FileNotFoundError:
            age = time.time() - (folder / "status.json").stat().st_mtime
        return _pid_alive(status.pid) and age < STALE_SECONDS

    def _mark(self, key: str, **changes: Any) -> JobStatus:
        path = self.folder(key) / "status.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data.update(changes)
        _write_json(path, data)
        return JobStatus(**{k: v for k, v in data.items() if k in JobStatus.__dataclass_fields__})

    def submit(self, kind: str, spec: dict[str, Any]) -> JobStatus:
        """Start a job, or return the running or finished one with the same key (the cache)."""
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        key = job_key(kind, spec)
        with self._locked():
            current = self.status(key)
            if current is not None and (current.active or current.state == "done"):
                return current
            self._prune()
            folder = self.folder(key)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            _write_json(folder / "spec.json", {"kind": kind, "target": KINDS[kind], "spec": spec})
            status = JobStatus(key, kind, "queued", submitted=_now(), message="starting the worker")
            _write_json(folder / "status.json", asdict(status))
            with (folder / "worker.log").open("ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "dashboard.services.jobs", str(folder)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: cancel kills it and its children
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
                )
            _PROCS[key] = proc
            logger.info(
                "job %s (%s) started: worker pid %d, log %s", key, kind, proc.pid, folder / "worker.log"
            )
            return self._mark(key, pid=proc.pid)

    def _prune(self) -> None:
        """Drop finished jobs not looked at for :data:`KEEP_DAYS` days (the cache does not grow forever)."""
        cutoff = time.time() - KEEP_DAYS * 86400
        for folder in self.root.iterdir():
            status_file = folder / "status.json"
            with contextlib.suppress(OSError):
                if folder.is_dir() and status_file.stat().st_mtime < cutoff:
                    status = self.status(folder.name)
                    if status is None or not status.active:
                        shutil.rmtree(folder, ignore_errors=True)

    def cancel(self, key: str) -> JobStatus | None:
        """Stop a running job (its process group); nothing it was preparing is published."""
        status = self.status(key)
        if status is None or not status.active:
            return status
        (self.folder(key) / "cancel").touch()
        logger.info("job %s cancelled by the user", key)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(status.pid, signal.SIGTERM)
        proc = _PROCS.pop(key, None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (proc.poll() is not None) if proc is not None else not _pid_alive(status.pid):
                break
            time.sleep(0.05)
        data = json.loads((self.folder(key) / "status.json").read_text(encoding="utf-8"))
        if data.get("state") == "done":  # it was already publishing: too late to cancel
            return self.status(key)
        return self._mark(key, state="cancelled", finished=_now(), message="cancelled")

    def latest(self, kind: str, where: Callable[[dict[str, Any]], bool] | None = None) -> JobStatus | None:
        """The most recently submitted job of a kind (what a reloaded page shows).

        ``where(spec)`` keeps only jobs whose spec passes (e.g. computed on the data now loaded).
        """
        if not self.root.is_dir():
            return None
        best: tuple[str, str] | None = None
        for folder in self.root.iterdir():
            try:
                data = json.loads((folder / "status.json").read_text(encoding="utf-8"))
                if where is not None and not where(self.spec(folder.name)):
                    continue
            except (OSError, json.JSONDecodeError, KeyError):
                continue
            if data.get("kind") == kind and (best is None or data.get("submitted", "") > best[0]):
                best = (data.get("submitted", ""), folder.name)
        return self.status(best[1]) if best else None

    def spec(self, key: str) -> dict[str, Any]:
        return json.loads((self.folder(key) / "spec.json").read_text(encoding="utf-8"))["spec"]


# --------------------------------------------------------------------------------------- worker
def _heartbeat(folder: Path, stop: threading.Event) -> None:
    beat = folder / "heartbeat"
    while not stop.is_set():
        beat.touch()
        stop.wait(HEARTBEAT_SECONDS)


def run_worker(folder: Path) -> int:
    """Run the job in ``folder`` (the worker process's main)."""
    spec_doc = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    status_path = folder / "status.json"
    status = json.loads(status_path.read_text(encoding="utf-8"))
    status.update(state="running", pid=os.getpid(), message="started")
    _write_json(status_path, status)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(folder, stop), daemon=True)
    beat.start()

    def report(done: int, total: int, message: str = "") -> None:
        status.update(done=int(done), total=int(total), message=message)
        _write_json(status_path, status)

    work = folder / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        module, name = spec_doc["target"].split(":")
        fn = getattr(importlib.import_module(module), name)
        summary = fn(spec_doc["spec"], work, report)
        work.replace(folder / "result")
        status.update(state="done", summary=summary or {}, finished=_now(), message="finished")
        code = 0
    except Exception as exc:  # reported to the page; nothing was published
        shutil.rmtree(work, ignore_errors=True)
        (folder / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        status.update(state="failed", error=str(exc) or type(exc).__name__, finished=_now())
        code = 1
    finally:
        stop.set()
    if code == 0 or not (folder / "cancel").exists():
        _write_json(status_path, status)
    return code


if __name__ == "__main__":  # pragma: no cover - the worker process
    sys.exit(run_worker(Path(sys.argv[1])))
