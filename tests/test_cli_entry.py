"""The ``wardwatch`` console entry point: :func:`engine.cli.main`, then a fast exit."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from engine.cli import console_main


def test_console_main_returns_mains_exit_code_and_freezes_the_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["wardwatch", "config", "show"])
    try:
        assert console_main() == 0
        assert gc.get_freeze_count() > 0  # the final collection will skip the imports' objects
    finally:
        gc.unfreeze()


def test_python_dash_m_runs_the_same_entry_point() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "no-such-command"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


_HEAP_PROBE = """
import numpy as np
from engine.runtime.process import keep_freed_memory
keep_freed_memory()
a = np.ones(8_000_000)  # 64 MB: glibc would give it a mapping of its own
lo, hi = next(
    (int(r.split("-")[0], 16), int(r.split("-")[1].split()[0], 16))
    for r in open("/proc/self/maps") if r.rstrip().endswith("[heap]")
)
print(lo <= a.ctypes.data < hi)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_score_keeps_large_arrays_on_the_reusable_heap() -> None:
    out = subprocess.run([sys.executable, "-c", _HEAP_PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


_HUGE_PAGE_PROBE = """
import sys
import numpy as np
from engine.runtime.process import keep_freed_memory, no_huge_pages
keep_freed_memory()
if sys.argv[1] == "off":
    no_huge_pages()
a = np.ones(8_000_000)  # 64 MB: numpy marks arrays of 4 MB or more for huge pages by default
addr, flags, inside = a.ctypes.data, set(), False
for line in open("/proc/self/smaps"):
    head = line.split()
    if "-" in head[0] and ":" not in head[0]:
        lo, hi = (int(v, 16) for v in head[0].split("-"))
        inside = lo <= addr + 8_000_000 * 4 < hi  # a page in the middle of the array
    elif inside and head[0] == "VmFlags:":
        flags = set(head[1:])
print("hg" in flags)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="transparent huge pages are Linux-only")
def test_score_asks_for_no_huge_pages() -> None:
    def probe(mode: str) -> str:
        cmd = [sys.executable, "-c", _HUGE_PAGE_PROBE, mode]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()

    if probe("default") != "True":
        pytest.skip("numpy does not ask for huge pages here")
    assert probe("off") == "False"


_WARM_PROBE = """
from engine.cli.score_cmd import warm_up_kernels
from engine.io._number_kernel import parse_views
assert not parse_views.signatures  # a fresh process: nothing loaded yet
thread = warm_up_kernels()
assert not thread.daemon  # the interpreter never exits in the middle of a compilation
thread.join()
print(len(parse_views.signatures))
"""


def test_kernel_warm_up_loads_the_loaders_first_kernel_on_another_thread() -> None:
    out = subprocess.run([sys.executable, "-c", _WARM_PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


_HELP_PROBE = """
import contextlib, io, sys
from engine.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
heavy = ("numpy", "polars", "numba", "scipy", "pyarrow", "engine.scoring", "engine.config")
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(heavy))))
print(",".join(sorted(m for m in sys.modules if m.startswith(("engine.cli.", "synthetic", "dashboard")))))
print(out.getvalue())
"""


def _help_probe(*argv: str) -> tuple[set[str], set[str], str]:
    """Run ``wardwatch ARGV`` in a fresh interpreter: (heavy modules, command modules, stdout)."""
    out = subprocess.run(
        [sys.executable, "-c", _HELP_PROBE, *argv], capture_output=True, text=True, check=True
    )
    heavy, commands, text = out.stdout.split("\n", 2)
    return set(filter(None, heavy.split(","))), set(filter(None, commands.split(","))), text


def test_help_lists_every_command_without_importing_any_command_module() -> None:
    """``wardwatch --help`` stays instant: no numpy/polars/numba, no command module (not a timed test)."""
    from engine.cli.registry import REGISTRY

    heavy, commands, text = _help_probe("--help")
    assert heavy == set()
    assert commands == {"engine.cli.registry"}
    for command in REGISTRY:
        assert command.name in text


def test_one_commands_help_imports_that_command_only() -> None:
    _heavy, commands, text = _help_probe("changepoints", "--help")
    assert "--min-size" in text
    assert "engine.cli.changepoint_cmd" in commands
    assert not commands & {
        "engine.cli.spc_cmd",
        "engine.cli.score_cmd",
        "synthetic.cli",
        "dashboard.cli_brief",
    }


def test_registry_help_is_each_modules_help() -> None:
    """The one-line help listed without importing a command is the line its module declares."""
    import importlib

    from engine.cli.registry import REGISTRY

    for command in REGISTRY:
        assert command.help == importlib.import_module(command.module).HELP, command.name
