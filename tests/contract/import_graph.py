"""The module import graph of the first-party packages, read from source with ``ast`` (nothing is
imported), for the layering tests."""

from __future__ import annotations

import ast
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES: tuple[str, ...] = ("engine", "signals", "synthetic", "dashboard")


@dataclass(frozen=True)
class Import:
    """One import statement's target module, as written in ``source`` at ``line``."""

    source: str
    target: str
    line: int
    type_only: bool  # inside ``if TYPE_CHECKING:``


@functools.cache
def module_files(packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``packages``."""
    out: dict[str, Path] = {}
    for pkg in packages:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


@functools.cache
def parsed(path: Path) -> ast.Module:
    """The syntax tree of one source file (parsed once per test session)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, name: str | None, level: int, source: str, is_package: bool) -> str:
    """Absolute dotted name of an import target (``from .x import y`` relative to ``source``)."""
    if level:
        base = source.split(".") if is_package else source.split(".")[:-1]
        base = base[: len(base) - (level - 1)]
        module = ".".join([*base, module] if module else base)
    return module if name is None else f"{module}.{name}"


def imports_of(name: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """First-party imports of one module: every ``import``/``from ... import`` anywhere in the file
    (module level, inside functions, under ``TYPE_CHECKING``). ``from pkg import sub`` counts as an
    import of ``pkg.sub`` when that is a module, else of ``pkg``."""
    tree = parsed(path)
    is_package = path.name == "__init__.py"
    type_only_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        type_only_lines.add(sub.lineno)
    found: list[Import] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", None, node.level, name, is_package)
            for alias in node.names:
                sub = _resolve(node.module or "", alias.name, node.level, name, is_package)
                targets.append(sub if sub in known else base)
        for target in targets:
            # the innermost first-party module named (``import engine.io.x`` -> engine.io.x)
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.append(Import(name, target, node.lineno, node.lineno in type_only_lines))
    return found


@functools.cache
def import_graph(packages: tuple[str, ...] = PACKAGES) -> tuple[Import, ...]:
    """Every first-party import edge of ``packages`` (read once per test session)."""
    known = module_files(packages)
    return tuple(imp for name, path in known.items() for imp in imports_of(name, path, known))


def cycles(edges: Sequence[Import]) -> list[list[str]]:
    """Strongly connected components with more than one module (each an import circle), sorted.

    An edge from a package's own ``__init__`` to its submodules is left out (re-exporting its
    submodules is what a package ``__init__`` is for; a submodule importing its package's
    ``__init__`` is kept, and makes a circle with it)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if e.target.startswith(e.source + "."):
            continue
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # Tarjan's algorithm (graphs of a few hundred modules: recursion is fine)
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)
