"""No long rooms: a function outside a numba kernel stays at 80 lines or fewer (issue 23).

Numba kernels (``@njit`` / ``@nb.njit``, possibly under other decorators) are exempt: splitting a
compiled loop costs speed or clarity. Everything else is split along its seams instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Packages held to the rule.
PACKAGES = ("engine", "signals", "synthetic", "dashboard")
MAX_LINES = 80


def _is_kernel(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """True when one of the decorators is numba's ``njit`` (bare, called or as ``nb.njit``)."""
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "njit":
            return True
    return False


def long_functions(source: str, max_lines: int = MAX_LINES) -> list[tuple[str, int, int]]:
    """``(name, first line, length)`` of every non-kernel function (nested ones too) over ``max_lines``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_kernel(node):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > max_lines:
                out.append((node.name, node.lineno, length))
    return out


def _files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_the_rule_sees_long_functions_and_spares_kernels():
    body = "\n".join(f"    x{i} = {i}" for i in range(85))
    plain = f"def long():\n{body}\n"
    assert long_functions(plain) == [("long", 1, 86)]
    for deco in ("@njit", "@njit(cache=True)", "@nb.njit(nogil=True)"):
        assert long_functions(f"{deco}\n{plain}") == []
    assert long_functions(f"@functools.cache\n{plain}") == [("long", 2, 86)]


def test_no_non_kernel_function_over_80_lines():
    files = _files()
    assert len(files) > 150  # the packages were found (else the test below is vacuous)
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {name} ({length} lines)"
        for path in files
        for name, line, length in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "split these along their seams:\n" + "\n".join(offenders)
