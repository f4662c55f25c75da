#!/usr/bin/env python3
"""One-file bootstrapper: the README's two commands.

    python dev.py demo    # set up, generate a synthetic trust, score it, serve the dashboard
    python dev.py test    # set up, then run the whole test suite (what .ci/run calls)

Standard library only, so it runs on a fresh machine that has nothing but Python 3.11+ and pip.
It creates ``.venv`` from the locked requirements (``requirements.lock``, exported from ``uv.lock``
with hashes) and reinstalls only when the lock or ``pyproject.toml`` changes.
Other sub-commands: ``python dev.py setup`` (the environment only), ``python dev.py run ARGS``
(any ``wardwatch`` command inside the environment), ``python dev.py bench`` (benchmark suite),
``python dev.py lint`` (ruff check, ruff format --check, then mypy as configured in pyproject.toml).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".wardwatch-lock.sha256"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
# Debian packages the end-to-end tests need (a real headless browser).
E2E_APT_PACKAGES = ["chromium", "poppler-utils", "fonts-dejavu-core"]


def _say(msg: str) -> None:
    print(f"[dev.py] {msg}", flush=True)


def _run(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def _lock_hash() -> str:
    h = hashlib.sha256()
    for f in (LOCK, ROOT / "pyproject.toml"):
        h.update(f.read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def ensure_env() -> None:
    """Create or refresh ``.venv`` from the lock file; a no-op when it is up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 the user has
        sys.exit("wardwatch needs Python 3.11 or newer")
    want = _lock_hash()
    if PY.exists() and STAMP.exists() and STAMP.read_text().strip() == want:
        return
    if PY.exists():
        # never delete the environment (it may be the one running this script): update it in place
        _say("lock changed or environment unstamped: updating .venv from the lock")
    else:
        if VENV.exists():
            shutil.rmtree(VENV)  # a broken environment without a python: start again
        _say("creating .venv (first run takes a few minutes)")
        _run([sys.executable, "-m", "venv", str(VENV)])
    _run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([str(PY), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(LOCK)])
    _run([str(PY), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT)])
    STAMP.write_text(want + "\n")
    _say("environment ready")


def ensure_browser() -> None:
    """Install Debian's Chromium (and pdftoppm) for the end-to-end tests when missing and possible."""
    if shutil.which("chromium") and shutil.which("pdftoppm"):
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        _say("chromium not found and cannot be installed here: end-to-end tests will fail")
        return
    _say("installing Debian chromium for the end-to-end tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_S}"]  # apt's own wait, besides ours
    try:
        wait_for_apt_locks()
        _run(["apt-get", *wait, "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        wait_for_apt_locks()
        _run(
            ["apt-get", *wait, "install", "-y", "-qq", *E2E_APT_PACKAGES], env=env, stdout=subprocess.DEVNULL
        )
    except (subprocess.CalledProcessError, TimeoutError, OSError) as exc:
        _say(f"could not install chromium ({exc}): end-to-end tests will fail; install it and run again")


#: Lock files of apt and dpkg (another apt process holding one would make apt-get fail at once).
APT_LOCKS = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock")
APT_LOCK_TIMEOUT_S = 900


def _locked(path: str) -> bool:
    """Whether another process holds the fcntl write lock dpkg and apt take on ``path``."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # absent or not ours to open: nothing to wait for
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def wait_for_apt_locks(
    paths: tuple[str, ...] = APT_LOCKS, timeout_s: float = APT_LOCK_TIMEOUT_S, poll_s: float = 2.0
) -> None:
    """Wait while another apt or dpkg process holds a lock (saying so every 30 s).

    Raises
    ------
    TimeoutError
        Still locked after ``timeout_s`` seconds.
    """
    import time

    start = last_said = time.monotonic()
    while busy := [p for p in paths if _locked(p)]:
        now = time.monotonic()
        if now - start > timeout_s:
            raise TimeoutError(f"{busy[0]} still locked by another apt/dpkg process after {timeout_s:.0f} s")
        if now == start or now - last_said >= 30:
            _say(f"waiting for another apt/dpkg process to release {busy[0]} ...")
            last_said = now
        time.sleep(poll_s)


def _exec(args: list[str]) -> int:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.call(args, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    cmd, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if cmd == "setup":
        ensure_env()
        return 0
    if cmd == "demo":
        ensure_env()
        return _exec([str(BIN / "wardwatch"), "demo", *rest])
    if cmd == "run":
        ensure_env()
        return _exec([str(BIN / "wardwatch"), *rest])
    if cmd == "test":
        ensure_env()
        ensure_browser()
        code = _exec([str(PY), "-m", "pytest", *rest])
        if code == 5:  # pytest: no tests collected; never call that a pass
            _say("no tests were collected")
            return 1
        return code
    if cmd == "lint":
        ensure_env()
        return (
            _exec([str(BIN / "ruff"), "check", "."])
            or _exec([str(BIN / "ruff"), "format", "--check", "."])
            or _exec([str(PY), "-m", "mypy"])  # paths and settings: [tool.mypy] in pyproject.toml
        )
    if cmd == "bench":
        ensure_env()
        return _exec(
            [str(PY), "-m", "pytest", "benchmarks", "--benchmark-only", "-p", "no:cacheprovider", *rest]
        )
    print(__doc__)
    return 0 if cmd in {"help", "-h", "--help"} else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
