"""Layering rules read from source: no import circles, no private module imported from another package."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.contract.import_graph import Import, cycles, import_graph, module_files

#: Private modules still imported from other packages, each being moved by an open piece of work
#: (issue 23). The lead empties this list once the moves are merged; a new entry needs a reason.
#: target module -> why it is still allowed.
PRIVATE_IMPORT_ALLOWED: dict[str, str] = {}


def _is_private(module: str) -> bool:
    return module.rpartition(".")[2].startswith("_")


def _package(module: str, known: dict[str, Path]) -> str:
    """The package a module belongs to (a package ``__init__`` belongs to itself)."""
    return module if known[module].name == "__init__.py" else module.rpartition(".")[0]


def _private_imports_across_packages(edges: Sequence[Import]) -> list[Import]:
    known = module_files()
    return [
        e for e in edges if _is_private(e.target) and _package(e.source, known) != _package(e.target, known)
    ]


def test_the_module_graph_is_read():
    edges = import_graph()
    names = {e.source for e in edges}
    # a guard against the reader silently finding nothing (which would make the tests below vacuous)
    assert len(edges) > 500
    assert {"engine.panel", "engine.coded", "synthetic.generator", "dashboard.services.results"} <= names
    coded = {(e.source, e.target) for e in edges}
    assert ("engine.panel", "engine.coded") in coded
    assert ("engine.coded", "engine.contract.observations") in coded


def test_no_import_circles():
    """No two first-party modules import each other, directly or through others, counting imports
    inside functions and under ``TYPE_CHECKING`` (a circle hidden in a function is still a circle)."""
    found = cycles(import_graph())
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_circles_are_found():
    """The checker itself: a circle through a function-level import and one through a
    ``TYPE_CHECKING`` import are both reported (the two shapes issue 23 removed)."""
    edges = [
        Import("a.x", "a.y", 1, False),
        Import("a.y", "a.x", 9, False),  # e.g. imported inside a function
        Import("b.p", "b.q", 1, True),  # under TYPE_CHECKING
        Import("b.q", "b.p", 1, False),
        Import("c.m", "c.n", 1, False),
        Import("c", "c.m", 1, False),  # a package __init__ re-exporting its submodule: no circle
        Import("c.n", "c", 1, False),
    ]
    assert cycles(edges) == [["a.x", "a.y"], ["b.p", "b.q"]]


def test_no_private_module_imported_across_packages():
    """A module named ``_x`` is its package's business: other packages use the package's public
    names. Exceptions are listed in :data:`PRIVATE_IMPORT_ALLOWED` until their move is merged."""
    offending = [
        e for e in _private_imports_across_packages(import_graph()) if e.target not in PRIVATE_IMPORT_ALLOWED
    ]
    assert offending == [], "\n".join(f"{e.source} (line {e.line}) imports {e.target}" for e in offending)


def test_the_allow_list_holds_only_live_exceptions():
    """An allow-list entry nobody needs any more must go (so the list only shrinks)."""
    used = {e.target for e in _private_imports_across_packages(import_graph())}
    stale = sorted(set(PRIVATE_IMPORT_ALLOWED) - used)
    assert stale == [], f"remove from PRIVATE_IMPORT_ALLOWED: {stale}"


def test_the_contract_imports_nothing_else_of_wardwatch():
    """``engine.contract`` sits below everything: any module may import it without a circle."""
    outside = sorted(
        {
            f"{e.source} -> {e.target}"
            for e in import_graph()
            if e.source.startswith("engine.contract")
            and not (e.target == "engine.contract" or e.target.startswith("engine.contract."))
        }
    )
    assert outside == []
