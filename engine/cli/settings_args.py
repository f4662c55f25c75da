"""Command-line options generated from the frozen ``...Settings`` dataclasses, and ``--set``.

One source for a setting's default and help: the dataclass field (its default, its
``metadata={"doc": ..., "units": ...}``) and its range (:mod:`engine.ranges`). A command lists the
fields it exposes as :class:`Option` s; :func:`add_field_options` adds one option per field and
:func:`settings_from_options` builds the settings from them, refusing a value outside the field's
declared range as a configuration file's value is refused (naming the option, not the dotted key).

Commands that take a configuration file also take ``--set section.key=value`` (repeatable):
:func:`add_config_options` adds ``--config`` and ``--set``; :func:`config_from_args` loads the file
and applies the overrides through the configuration's own validation (unknown keys with the nearest
valid key, types, ranges, relations), so an override is a configuration value like any other and is
recorded with the run (``run.json`` ``config`` and ``config_sha256``).

Imports only the standard library and :mod:`engine.ranges` at module level, so a command's
``--help`` stays quick.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import tomllib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin, get_type_hints

from engine.ranges import range_of

if TYPE_CHECKING:
    from engine.config import Config

SET_FLAG = "--set"


@dataclass(frozen=True)
class Option:
    """How one settings field appears on the command line.

    Attributes
    ----------
    field:
        Name of the dataclass field.
    flags:
        Option strings; default ``--field-name`` (underscores become hyphens).
    dest:
        Attribute on the parsed namespace; default the field's name.
    help:
        Help text replacing the field's ``doc`` (when the command line needs other words).
    choices:
        Allowed values replacing those of a ``Literal`` field.
    negate:
        For a boolean field that defaults to true: a ``--no-...`` flag that sets it false.
    required:
        The option must be given (the field's default is then not shown).
    metavar:
        Shown in the usage line instead of the dest in capitals.
    default:
        A command's own default in place of the field's (e.g. fewer bootstrap replicates per point
        of a sweep); ``None``: the field's default.
    """

    field: str
    flags: tuple[str, ...] = ()
    dest: str | None = None
    help: str | None = None
    choices: tuple[str, ...] | None = None
    negate: bool = False
    required: bool = False
    metavar: str | None = None
    default: Any = None  # None: the field's default (no setting offered here defaults to a value of None)

    @property
    def option_strings(self) -> tuple[str, ...]:
        """The flags, or ``--field-name``."""
        return self.flags or (f"--{self.field.replace('_', '-')}",)

    @property
    def attribute(self) -> str:
        """Where argparse stores the value."""
        return self.dest or self.field


def _as_options(options: Sequence[str | Option]) -> list[Option]:
    return [o if isinstance(o, Option) else Option(o) for o in options]


def _base_type(tp: Any) -> Any:
    """``X`` from ``X | None``; a ``Literal`` or plain type unchanged."""
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return tp


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default


def _help(option: Option, f: dataclasses.Field, cls: type, default: Any, boolean: bool) -> str:
    """The field's doc and units, its default and its range (``%`` escaped for argparse)."""
    text = option.help if option.help is not None else str(f.metadata.get("doc", ""))
    units = f.metadata.get("units")
    if units and option.help is None:
        text += f", in {units}"
    notes = []
    if not boolean and not option.required and default is not None:
        notes.append(f"default {default:g}" if isinstance(default, float) else f"default {default}")
    rng = range_of(cls, f)
    if rng is not None:
        notes.append(rng.describe())
    if notes:
        text += f" ({'; '.join(notes)})"
    return text.replace("%", "%%")


def add_field_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    options: Sequence[str | Option],
) -> None:
    """Add one option per listed field of settings class ``cls``, default and help from the field."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = get_type_hints(cls)
    for option in _as_options(options):
        f = fields[option.field]
        tp = _base_type(hints[option.field])
        default = _default(f) if option.default is None else option.default
        kwargs: dict[str, Any] = {"dest": option.attribute}
        if option.metavar:
            kwargs["metavar"] = option.metavar
        if tp is bool:
            if option.negate != bool(default):
                raise TypeError(f"{cls.__name__}.{f.name}: negate must match a default of {default}")
            kwargs["action"] = "store_true"
        elif get_origin(tp) is Literal:
            kwargs["choices"] = option.choices or get_args(tp)
            kwargs["default"] = None if option.required else default
        else:
            kwargs["type"] = tp
            kwargs["default"] = None if option.required else default
            if option.choices:
                kwargs["choices"] = option.choices
        if option.required:
            kwargs["required"] = True
        kwargs["help"] = _help(option, f, cls, default, tp is bool)
        parser.add_argument(*option.option_strings, **kwargs)


def settings_from_options(
    args: argparse.Namespace, cls: type, options: Sequence[str | Option], **extra: Any
) -> Any:
    """Settings ``cls`` from the parsed options (and ``extra`` fields), checked like a configuration.

    The dataclass's own checks run first (their messages are part of the command line's contract),
    then each option's declared range (:mod:`engine.ranges`).

    Raises
    ------
    CliError
        The dataclass's refusal, or naming the option, its value and the valid range.
    """
    from engine.cli import CliError

    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for option in _as_options(options):
        value = getattr(args, option.attribute)
        values[option.field] = not value if option.negate else value
    try:
        settings = cls(**values, **extra)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    for option in _as_options(options):
        value = values[option.field]
        rng = range_of(cls, fields[option.field])
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and rng is not None and not rng.contains(float(value)):
            flag = option.option_strings[0]
            raise CliError(f"{flag} = {value!r} is out of range: it must be {rng.describe()}")
    return settings


# -- --config and --set --------------------------------------------------------------------------


def add_config_options(parser: argparse.ArgumentParser, help: str) -> None:
    """``--config FILE`` (with ``help``) and ``--set section.key=value`` (repeatable)."""
    parser.add_argument("--config", help=help)
    parser.add_argument(
        SET_FLAG,
        dest="set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one configuration setting, e.g. --set combination.concern_threshold=4.5 "
        "(repeatable; checked like the configuration file and recorded with the run)",
    )


def parse_override(text: str) -> tuple[str, Any]:
    """``("section.key", value)`` from ``section.key=value``; the value is read as TOML.

    ``4.5``, ``12``, ``true``, ``"x"`` and ``[1, 2]`` are TOML values; anything else (``FULL``) and
    dates (``2024-04-01``, as the configuration file writes them: text) are taken as text.

    Raises
    ------
    SettingsError
        When there is no ``=`` or no dotted key.
    """
    from engine.settings import SettingsError

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or "." not in key or any(not part for part in key.split(".")):
        raise SettingsError(
            f"{SET_FLAG} {text!r}: expected section.key=value (e.g. combination.concern_threshold=4.5)"
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    if isinstance(value, dt.date | dt.time):
        value = raw
    return key, value


def apply_overrides(config: Config, overrides: Sequence[str]) -> Config:
    """``config`` with every ``section.key=value`` applied, validated as one configuration.

    Raises
    ------
    SettingsError
        Naming ``--set`` and the bad key (unknown key with the nearest valid one, wrong type, value
        out of range, settings that contradict each other).
    """
    from engine.config import config_from_mapping

    if not overrides:
        return config
    data = config.to_dict()
    for text in overrides:
        key, value = parse_override(text)
        node = data
        *tables, leaf = key.split(".")
        for part in tables:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                from engine.settings import SettingsError

                raise SettingsError(f"{SET_FLAG} {text!r}: {part} is a setting, not a table")
            node = child
        node[leaf] = value
    return config_from_mapping(data, source=SET_FLAG)


def config_from_args(args: argparse.Namespace) -> Config:
    """The configuration of ``--config`` (defaults without it) with the ``--set`` overrides applied.

    Raises
    ------
    CliError
        A file or override that does not validate (one line naming the key).
    """
    from engine.cli import CliError
    from engine.config import load_config
    from engine.settings import SettingsError

    try:
        return apply_overrides(load_config(args.config), getattr(args, "set", None) or [])
    except SettingsError as exc:
        raise CliError(str(exc)) from None
