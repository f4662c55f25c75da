"""Typed settings from plain mappings (TOML tables) and back, with messages that name the bad key.

Every tunable in wardwatch is a field of a frozen dataclass with a default. This module turns a TOML
table into such a dataclass (refusing unknown keys, checking types, suggesting the nearest key) and
renders a dataclass back to TOML-ready dictionaries for ``wardwatch config show``. Field docs come
from ``field(metadata={"doc": "..."})`` when present.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the full key (``combination.target``)."""


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(tp))
    if origin in (tuple, list):
        return f"list of {_describe(get_args(tp)[0])}"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and return it in the field's type."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except SettingsError:
                continue
        raise SettingsError(f"{key}: expected {_describe(tp)}, got {value!r}")
    if origin is Literal:
        if value not in get_args(tp):
            raise SettingsError(f"{key}: must be one of {_describe(tp)}, got {value!r}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise SettingsError(f"{key}: expected a list, got {value!r}")
        args = get_args(tp)
        item_tp = args[0] if args else Any
        return tuple(_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise SettingsError(f"{key}: expected a table, got {value!r}")
        args = get_args(tp)
        val_tp = args[1] if len(args) == 2 else Any
        return {str(k): _coerce(v, val_tp, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):  # a settings class (never an instance)
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise SettingsError(f"{key}: expected a table, got {value!r}")
        return from_mapping(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{key}: expected a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise SettingsError(f"{key}: expected text, got {value!r}")
        return value
    raise SettingsError(f"{key}: unsupported setting type {tp!r}")


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str = "") -> T:
    """Build settings dataclass ``cls`` from ``data``; unknown keys and bad types are refused.

    Missing keys take the dataclass defaults. ``where`` is the dotted prefix used in messages.
    Any ``ValueError`` raised by the dataclass's own ``__post_init__`` is re-raised as a
    :class:`SettingsError` naming the table.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    prefix = f"{where}." if where else ""
    unknown = [k for k in data if k not in fields]
    if unknown:
        k = unknown[0]
        near = difflib.get_close_matches(k, list(fields), n=1)
        hint = f" (did you mean {prefix}{near[0]}?)" if near else ""
        raise SettingsError(f"unknown key {prefix}{k}{hint}")
    kwargs = {k: _coerce(v, hints[k], f"{prefix}{k}") for k, v in data.items()}
    for k, v in kwargs.items():
        # a partial nested table starts from the field's own default (e.g. [baselines_monthly] from
        # the monthly defaults), not from the nested class's defaults
        f = fields[k]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if (
            isinstance(data[k], Mapping)
            and dataclasses.is_dataclass(default)
            and not isinstance(default, type)
        ):
            kwargs[k] = dataclasses.replace(default, **{name: getattr(v, name) for name in data[k]})
    try:
        return cls(**kwargs)
    except SettingsError:
        raise
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{where or cls.__name__}: {exc}") from exc


def to_mapping(obj: Any) -> Any:
    """Render settings (nested dataclasses, tuples, dicts) as TOML-ready plain values.

    ``None`` values are left out (TOML has no null); a missing key means "use the default", which
    for those fields is ``None``.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None:
                continue
            out[f.name] = to_mapping(value)
        return out
    if isinstance(obj, Mapping):
        return {str(k): to_mapping(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, tuple | list):
        return [to_mapping(v) for v in obj]
    return obj


def field_docs(cls: type) -> dict[str, str]:
    """``{field name: doc}`` from ``field(metadata={"doc": ...})``."""
    return {f.name: str(f.metadata.get("doc", "")) for f in dataclasses.fields(cls)}
