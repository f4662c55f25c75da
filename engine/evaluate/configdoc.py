"""The full configuration as commented TOML (``wardwatch config show`` / ``config write``).

Each key is followed by a comment taken from the field's ``metadata["doc"]`` or, failing that, from
the ``Attributes`` section of its settings class docstring. Unset optional keys (``None``: TOML has
no null) are printed commented out, so the file is a complete, loadable list of every setting.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import tomli_w

from engine.config import Config
from engine.settings import to_mapping


def _docstring_attributes(cls: type) -> dict[str, str]:
    """``{name: first sentence}`` from a numpy-style ``Attributes`` section."""
    doc = cls.__doc__ or ""
    m = re.search(r"Attributes\n\s*-+\n(.*)", doc, flags=re.S)
    if not m:
        return {}
    out: dict[str, str] = {}
    name: str | None = None
    text: list[str] = []
    for line in m.group(1).splitlines():
        head = re.match(r"^\s{4}(\w+)\s*:", line)
        if head and not line.startswith(" " * 8):
            if name:
                out[name] = " ".join(text)
            name, text = head.group(1), []
        elif name and line.strip():
            text.append(line.strip())
    if name:
        out[name] = " ".join(text)
    return {k: re.split(r"(?<=\.)\s", v, maxsplit=1)[0].rstrip(".") for k, v in out.items()}


def field_doc(cls: type, name: str) -> str:
    """Documentation of one settings field (metadata first, then the class docstring)."""
    for f in dataclasses.fields(cls):
        if f.name == name and f.metadata.get("doc"):
            return str(f.metadata["doc"])
    return _docstring_attributes(cls).get(name, "")


def _value(v: Any) -> str:
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    return tomli_w.dumps({"x": v}).split("=", 1)[1].strip()


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else tomli_w.dumps({k: 0}).split("=", 1)[0].strip()


def _section(name: str, obj: Any) -> list[str]:
    cls = type(obj)
    lines = [f"[{name}]"]
    summary = (cls.__doc__ or "").strip().splitlines()
    if summary:
        lines.append(f"# {cls.__name__}: {summary[0]}")
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        doc = field_doc(cls, f.name)
        comment = f"  # {doc}" if doc else ""
        if value is None:
            lines.append(f"# {f.name} =   (unset){comment}")
        else:
            lines.append(f"{f.name} = {_value(to_mapping(value))}{comment}")
    return lines


def render_config(config: Config, all_indicators: bool = True) -> str:
    """Commented TOML of the full resolved configuration (loads back to an equal :class:`Config`).

    Parameters
    ----------
    all_indicators:
        List ``[indicators.<key>]`` for every catalogue indicator (defaults where not configured);
        otherwise only the configured ones.
    """
    out = [
        "# wardwatch configuration: every setting, resolved (defaults where the file sets nothing).",
        "# Validate with `wardwatch config check FILE`; unknown keys are refused.",
        "",
    ]
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == "indicators":
            keys = list(config.build_catalogue()) if all_indicators else sorted(value)
            out.append("# [indicators.<key>]: per-indicator settings (IndicatorSettings)")
            for key in keys:
                out += _section(f"indicators.{_key(key)}", config.indicator(key))
                out.append("")
            continue
        if f.name == "catalogue":
            out.append("# [catalogue.<key>]: a trust's own indicators (fields of signals.Indicator)")
            if value:
                out.append(tomli_w.dumps({"catalogue": to_mapping(value)}).rstrip())
            out.append("")
            continue
        out += _section(f.name, value)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
