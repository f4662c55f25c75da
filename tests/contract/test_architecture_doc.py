"""docs/architecture.md names only what exists: every path in its package map and in backticks, and
every function the "where each number is computed" table attributes to a module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
#: A backticked path: a file with a known suffix or a folder, relative to the repository root.
_PATH = re.compile(r"`([A-Za-z_][\w./-]*(?:\.(?:py|md|toml)|/))`")
_NAME = re.compile(r"`([A-Za-z_][\w.]*)`")


def _tree_paths(text: str) -> list[str]:
    """Paths of the package map (the ```tree block): two spaces of indent per level; an entry is
    the first word of a line when it ends in ``/`` or ``.py``."""
    block = text.split("```tree\n", 1)[1].split("```", 1)[0]
    stack: list[tuple[int, str]] = []  # (indent, folder path)
    paths = []
    for line in block.splitlines():
        word = line.split()[0] if line.strip() else ""
        if not (word.endswith("/") or word.endswith(".py")):
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (stack[-1][1] if stack else "") + word
        paths.append(path)
        if word.endswith("/"):
            stack.append((indent, path))
    return paths


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def _number_rows(text: str) -> list[tuple[list[str], list[str]]]:
    """(names, module paths) of each row of the "where each number is computed" table."""
    section = text.split("## Where each number is computed", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("Number a user sees", "---"):
            continue
        names = [n.rpartition(".")[2] for n in _NAME.findall(cells[1])]
        modules = [p for p in _PATH.findall(cells[2]) if p.endswith(".py")]
        rows.append((names, modules))
    return rows


def test_every_path_named_exists():
    text = DOC.read_text(encoding="utf-8")
    tree = _tree_paths(text)
    backticked = [p for p in _PATH.findall(text) if not p.startswith("../")]
    assert len(tree) > 100 and len(backticked) > 50  # both readers found their paths
    missing = sorted({p for p in tree + backticked if not (ROOT / p).exists()})
    assert missing == []


def test_every_number_names_the_function_that_computes_it():
    rows = _number_rows(DOC.read_text(encoding="utf-8"))
    assert len(rows) >= 25
    wrong = []
    for names, modules in rows:
        assert names and modules
        defined = set().union(*(_defined_names(ROOT / m) for m in modules))
        wrong += [f"{n} (in {', '.join(modules)})" for n in names if n not in defined]
    assert wrong == []


def test_the_tree_reader_nests_folders():
    text = "```tree\nengine/   x\n  store/   y\n    triage.py   z\n  alerting.py   w\nsignals/\n```"
    assert _tree_paths(text) == [
        "engine/",
        "engine/store/",
        "engine/store/triage.py",
        "engine/alerting.py",
        "signals/",
    ]
