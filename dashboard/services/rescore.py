"""Upload to re-score: keep each upload, score it in a background job and swap the results in atomically.

* :func:`stage_upload` keeps the uploaded files under their own names in a folder of their own,
  ``DATA/incoming/<UTC time>-<content hash>/`` (two uploads with the same file name never overwrite
  each other; the scored results' ``run.json`` points at them).
* :func:`run_rescore_job` (job kind ``rescore``, run by :mod:`dashboard.services.jobs`) validates and
  scores into the job's scratch folder, then publishes with :func:`swap_in`.
* :func:`swap_in` replaces the served results folder in one ``renameat2(RENAME_EXCHANGE)`` (the
  dashboard reads either the old or the new folder, never a mix), then the data folder's ward
  register and events the dashboard reads beside them. A journal makes the second step
  restartable: :func:`recover` finishes it after a kill (or rolls back a journal whose exchange
  never happened). The triage store is not touched by the job: the dashboard syncs the new
  results into it (alerts are keyed stably), so triage notes and states carry over.

A failed or killed job before the exchange leaves the served results, the registers and the store
exactly as they were.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: data-folder files the dashboard reads beside the results (replaced together with them).
REGISTER_FILES: dict[str, str] = {"wards": "wards.csv", "events": "events.csv"}
#: previous results folders kept after a swap.
KEEP_PREVIOUS = 3
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def safe_name(name: str) -> str:
    """A file name without folders or odd characters (the uploaded file's own name otherwise)."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip() or "upload"


def stage_upload(
    data_dir: Path, files: Mapping[str, tuple[str, bytes]], now: dt.datetime | None = None
) -> Path:
    """Keep uploaded files (role -> (file name, bytes)) in a new ``incoming`` folder; returns it.

    The folder name is the UTC time and a hash of the contents, so the same file name uploaded twice
    gets two folders; the files keep their own names.
    """
    h = hashlib.sha256()
    for role in sorted(files):
        name, data = files[role]
        h.update(f"{role}:{name}:{len(data)};".encode())
        h.update(data)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    folder = data_dir / "incoming" / f"{stamp}-{h.hexdigest()[:8]}"
    folder.mkdir(parents=True, exist_ok=False)
    names: set[str] = set()
    for role, (name, data) in files.items():
        clean = safe_name(name)
        if clean in names:  # two roles uploaded with the same name
            clean = f"{role}-{clean}"
        names.add(clean)
        (folder / clean).write_bytes(data)
    (folder / "upload.json").write_text(
        json.dumps({role: safe_name(n) for role, (n, _) in files.items()} | {"_names": sorted(names)}),
        encoding="utf-8",
    )
    logger.info("upload kept in %s: %s", folder, ", ".join(sorted(names)))
    return folder


def staged_files(folder: Path) -> dict[str, Path]:
    """Role -> path of a staged upload's files."""
    doc = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    out: dict[str, Path] = {}
    taken = set()
    for role in ("observations", "wards", "events"):
        if role in doc:
            name = doc[role]
            p = folder / name
            if name in taken or not p.exists():
                p = folder / f"{role}-{name}"
            taken.add(p.name)
            out[role] = p
    return out


def exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    Raises
    ------
    OSError
        The system cannot exchange (not Linux, or a file system without it).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError("renameat2 is not available")
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a))


def _journal(data_dir: Path) -> Path:
    return data_dir / ".wardwatch" / "swap.json"


def swap_in(
    new_results: Path, results: Path, data_dir: Path, registers: Mapping[str, Path], swap_id: str
) -> Path | None:
    """Publish ``new_results`` as ``results`` and the staged registers; returns where the old results went.

    ``new_results`` must be on the same file system as ``results``. SIGTERM and SIGINT (a cancel)
    are ignored while publishing.
    """
    (new_results / ".swap-id").write_text(swap_id, encoding="utf-8")
    staged: dict[str, str] = {}
    for role, src in registers.items():
        dest = data_dir / REGISTER_FILES[role]
        tmp = data_dir / f".{dest.name}.{swap_id}.new"
        shutil.copyfile(src, tmp)
        staged[str(tmp)] = str(dest)
    journal = _journal(data_dir)
    journal.parent.mkdir(parents=True, exist_ok=True)
    # a cancel arriving now is too late: the publication runs to its end (SIGKILL cannot be ignored,
    # but the exchange is one system call and the journal finishes the rest)
    ignore = threading.current_thread() is threading.main_thread()
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT)} if ignore else {}
    try:
        tmp_journal = journal.with_suffix(".tmp")
        aside = results.with_name(f".{results.name}.old-{swap_id}")
        doc = {"swap_id": swap_id, "results": str(results), "staging": str(new_results), "aside": str(aside)}
        tmp_journal.write_text(json.dumps(doc | {"files": staged}))
        tmp_journal.replace(journal)
        previous: Path | None = None
        if results.exists():
            try:
                exchange(new_results, results)  # new_results now holds the previous results
                previous = new_results
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
                    raise
                # no atomic exchange on this file system: two renames, finished by recover() if killed
                results.replace(aside)
                new_results.replace(results)
                previous = aside
        else:
            new_results.replace(results)
        _finish(journal)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if previous is not None:
        previous = _keep_previous(previous, data_dir, swap_id)
    logger.info(
        "re-scored results published as %s (swap %s; previous kept in %s)", results, swap_id, previous
    )
    return previous


def _finish(journal: Path) -> None:
    doc = json.loads(journal.read_text(encoding="utf-8"))
    for tmp, dest in doc["files"].items():
        if Path(tmp).exists():
            Path(tmp).replace(dest)
    journal.unlink()


def recover(data_dir: Path) -> str:
    """Finish (or roll back) a swap interrupted by a kill; returns what was done ('' when nothing)."""
    journal = _journal(data_dir)
    if not journal.exists():
        return ""
    doc = json.loads(journal.read_text(encoding="utf-8"))
    results, staging = Path(doc["results"]), Path(doc.get("staging", ""))
    if not results.exists() and doc.get("staging") and staging.is_dir():  # killed between two renames
        staging.replace(results)
    marker = results / ".swap-id"
    if marker.exists() and marker.read_text(encoding="utf-8") == doc["swap_id"]:
        _finish(journal)
        logger.warning("finished an interrupted re-score swap (%s)", doc["swap_id"])
        return "finished an interrupted re-score swap"
    for tmp in doc["files"]:
        Path(tmp).unlink(missing_ok=True)
    journal.unlink()
    logger.warning("rolled back an interrupted re-score swap (%s)", doc["swap_id"])
    return "rolled back an interrupted re-score swap"


def clean_staging(results: Path, is_active) -> int:
    """Remove staging folders of re-scores that are no longer running (killed ones leave theirs).

    ``is_active(job_key)`` says whether a job still runs. Returns the number removed.
    """
    removed = 0
    for folder in results.parent.glob(f".{results.name}.new-*"):
        if not is_active(folder.name.rsplit("-", 1)[-1]):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _keep_previous(folder: Path, data_dir: Path, swap_id: str) -> Path:
    keep = data_dir / ".wardwatch" / "previous-results"
    keep.mkdir(parents=True, exist_ok=True)
    dest = keep / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{swap_id}"
    shutil.move(str(folder), dest)
    old = sorted(keep.iterdir())
    for extra in old[:-KEEP_PREVIOUS]:
        shutil.rmtree(extra, ignore_errors=True)
    return dest


def rescore_spec(
    data_dir: Path, results_dir: Path, files: Mapping[str, Path], config_path: Path
) -> dict[str, Any]:
    """The job spec: where to read, what to replace, and the digests that make its key."""
    from dashboard.services.lab_sweep import file_sha256

    digests = {r: file_sha256(p) for r, p in files.items()}
    if config_path.exists():
        digests["config"] = file_sha256(config_path)
    return {
        "data_dir": str(data_dir),
        "results_dir": str(results_dir),
        "files": {r: str(p) for r, p in files.items()},
        "config": str(config_path) if config_path.exists() else None,
        "digests": digests,
    }


def run_rescore_job(spec: dict[str, Any], work: Path, report) -> dict[str, Any]:
    """Worker side: validate, score into a staging folder beside the results, swap in atomically."""
    from engine.config import load_config
    from engine.io import FatalInputError, load_dataset
    from engine.scoring.outputs import score_and_write

    data_dir, results = Path(spec["data_dir"]), Path(spec["results_dir"])
    recover(data_dir)
    files = {r: Path(p) for r, p in spec["files"].items()}
    total = 4
    report(0, total, "reading the configuration")
    config = load_config(spec["config"]) if spec.get("config") else load_config(None)
    report(1, total, "validating the files")
    try:
        load = load_dataset(
            files["observations"], files["wards"], files.get("events"), catalogue=config.build_catalogue()
        )
    except FatalInputError as exc:
        raise ValueError(str(exc).replace(f"{files['observations'].parent}/", "")) from None
    rejected = load.n_rejected
    report(2, total, "scoring (the current results stay on screen until this finishes)")
    swap_id = work.parent.name
    staging = results.parent / f".{results.name}.new-{swap_id}"
    shutil.rmtree(staging, ignore_errors=True)
    inputs = {"observations": files["observations"], "wards": files["wards"], "events": files.get("events"),
              "config": spec.get("config")}  # fmt: skip
    try:
        result, _ = score_and_write(load, config, staging, inputs)
        report(3, total, "publishing the new results")
        registers = {r: files[r] for r in REGISTER_FILES if r in files}
        if "events" not in registers:  # scored without events: the dashboard must not show old ones
            registers["events"] = work / "events.csv"
            registers["events"].write_text("ward_id,date,kind,note\n", encoding="utf-8")
        previous = swap_in(staging, results, data_dir, registers, swap_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(4, total, "done")
    wards = len(result.wards.ward_id)
    return {
        "wards": wards,
        "as_of": str(result.wards.periods[-1]),
        "alerts": int(result.alerts.height),
        "rejected": int(rejected),
        "previous": str(previous) if previous else "",
    }
