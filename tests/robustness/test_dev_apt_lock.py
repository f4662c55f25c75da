"""dev.py waits for another apt/dpkg process instead of crashing when the dpkg lock is held."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dev():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hold_in_child(lock: Path, seconds: float) -> int:
    """A child process that holds the lock for ``seconds`` (fcntl locks are per process)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        fd = os.open(lock, os.O_RDWR)
        fcntl.lockf(fd, fcntl.LOCK_EX)
        (lock.parent / "held").write_text("1")
        time.sleep(seconds)
        os._exit(0)
    return pid


@pytest.mark.skipif(os.name != "posix", reason="fcntl locks")
def test_waits_until_the_lock_is_released(tmp_path: Path) -> None:
    dev = _dev()
    lock = tmp_path / "lock-frontend"
    lock.write_text("")
    pid = _hold_in_child(lock, 1.5)
    try:
        while not (tmp_path / "held").exists():
            time.sleep(0.01)
        assert dev._locked(str(lock))
        t0 = time.monotonic()
        dev.wait_for_apt_locks((str(lock),), timeout_s=30, poll_s=0.1)
        assert time.monotonic() - t0 >= 0.5  # it waited for the holder
        assert not dev._locked(str(lock))
    finally:
        os.waitpid(pid, 0)


@pytest.mark.skipif(os.name != "posix", reason="fcntl locks")
def test_gives_up_with_a_clear_error_after_the_timeout(tmp_path: Path) -> None:
    dev = _dev()
    lock = tmp_path / "lock"
    lock.write_text("")
    pid = _hold_in_child(lock, 2.0)
    try:
        while not (tmp_path / "held").exists():
            time.sleep(0.01)
        with pytest.raises(TimeoutError, match="still locked"):
            dev.wait_for_apt_locks((str(lock),), timeout_s=0.3, poll_s=0.1)
    finally:
        os.waitpid(pid, 0)


def test_absent_lock_files_do_not_block(tmp_path: Path) -> None:
    dev = _dev()
    done = threading.Event()
    dev.wait_for_apt_locks((str(tmp_path / "none"),), timeout_s=1)
    done.set()
    assert done.is_set()
