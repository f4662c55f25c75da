"""Turning scoring output (``AlertRecord``s, mappings or a polars frame of ``alerts.csv``) into rows.

Also the two text encodings the store uses: ISO dates (``YYYY-MM-DD``) for periods and UTC ISO 8601
timestamps with a ``Z`` suffix for instants.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from engine.store.lifecycle import SCOPES
from engine.store.models import ALERTS_CSV_COLUMNS, AlertRecord


def format_timestamp(value: dt.datetime | str | None = None) -> str:
    """A UTC timestamp as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; ``None`` means now.

    Naive datetimes are taken to be UTC already. Strings are parsed (any ISO 8601 form) and
    normalised, so equal instants always compare equal as text.
    """
    if value is None:
        value = dt.datetime.now(dt.UTC)
    elif isinstance(value, str):
        text = value.strip()
        value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def to_date(value: Any, name: str) -> dt.date | None:
    """A period date from a ``date``, ``datetime`` or ISO ``YYYY-MM-DD`` text; empty -> ``None``."""
    if _is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ValueError(f"{name}: expected a date (YYYY-MM-DD), got {value!r}")


def to_float(value: Any, name: str) -> float | None:
    """A finite or infinite float; empty text, ``None`` and NaN -> ``None``."""
    if _is_missing(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    return None if math.isnan(out) else out


def to_text(value: Any) -> str | None:
    """Text kept verbatim; ``None``, NaN and the empty string -> ``None``."""
    return None if _is_missing(value) else str(value)


def record_from_mapping(row: Mapping[str, Any]) -> AlertRecord:
    """Build and validate an ``AlertRecord`` from one ``alerts.csv`` row (extra keys ignored).

    Raises
    ------
    ValueError
        On a missing column, an empty ``alert_id``/``ward_id``/``level``/``opened`` (a provider alert
        needs ``provider`` instead of ``ward_id``), an unknown ``scope``, or an unparseable date or
        number. ``provider`` is optional (an extension column of ``alerts.csv``).
    """
    missing = [c for c in ALERTS_CSV_COLUMNS if c not in row]
    if missing:
        raise ValueError(f"alert row lacks column(s): {', '.join(missing)}")
    rec = AlertRecord(
        alert_id=to_text(row["alert_id"]) or "",
        ward_id=to_text(row["ward_id"]) or "",
        scope=to_text(row["scope"]) or "",
        indicator=to_text(row["indicator"]),
        method=to_text(row["method"]),
        level=to_text(row["level"]) or "",
        direction=to_text(row["direction"]),
        opened=to_date(row["opened"], "opened"),  # type: ignore[arg-type]
        onset_estimate=to_date(row["onset_estimate"], "onset_estimate"),
        last_seen=to_date(row["last_seen"], "last_seen"),
        closed=to_date(row["closed"], "closed"),
        statistic=to_float(row["statistic"], "statistic"),
        threshold=to_float(row["threshold"], "threshold"),
        explanation=to_text(row["explanation"]) or "",
        provider=to_text(row.get("provider")),
    )
    return validate_record(rec)


def validate_record(rec: AlertRecord) -> AlertRecord:
    """Check the invariants of an ``AlertRecord``; return it unchanged or raise ``ValueError``."""
    if rec.scope not in SCOPES:
        raise ValueError(
            f"alert {rec.alert_id!r}: scope must be one of {', '.join(SCOPES)}, got {rec.scope!r}"
        )
    needed = (
        ("alert_id", "provider", "level") if rec.scope == "provider" else ("alert_id", "ward_id", "level")
    )
    for name in needed:
        if not getattr(rec, name):
            raise ValueError(f"alert {rec.alert_id!r}: {name} is empty")
    if not isinstance(rec.opened, dt.date):
        raise ValueError(f"alert {rec.alert_id!r}: opened is empty")
    if rec.closed is not None and rec.closed < rec.opened:
        raise ValueError(f"alert {rec.alert_id!r}: closed {rec.closed} is before opened {rec.opened}")
    return rec


def iter_records(alerts: Any) -> Iterator[AlertRecord]:
    """Yield validated ``AlertRecord``s from records, mappings, or a polars ``DataFrame``.

    A polars frame must have every ``alerts.csv`` column (dates as ``Date`` or ISO text).
    """
    if type(alerts).__module__.startswith("polars") and hasattr(alerts, "iter_rows"):
        missing = [c for c in ALERTS_CSV_COLUMNS if c not in alerts.columns]
        if missing:
            raise ValueError(f"alerts frame lacks column(s): {', '.join(missing)}")
        cols = [*ALERTS_CSV_COLUMNS, *(["provider"] if "provider" in alerts.columns else [])]
        rows: Iterable[Any] = alerts.select(cols).iter_rows(named=True)
    else:
        rows = alerts
    for row in rows:
        if isinstance(row, AlertRecord):
            yield validate_record(row)
        elif isinstance(row, Mapping):
            yield record_from_mapping(row)
        else:
            raise TypeError(f"expected AlertRecord or a mapping of alerts.csv columns, got {type(row)!r}")
