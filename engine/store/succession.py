"""Which alert of a new scoring run replaces a stored alert that the run no longer produces.

Alert ids hash the opening period, so corrected data that moves an episode's opening week gives the
episode a new id; a correction can also make an episode vanish. A stored alert missing from a
complete run has a **successor** when the run holds an alert of the same kind (scope, ward,
indicator, provider) whose episode overlaps the stored one's: the same condition, re-dated. Episodes
are closed intervals ``[opened, closed]``; an episode whose condition still holds runs to
``data_end``. Among several overlapping candidates the one whose opening is nearest wins (ties: the
earlier one), so a split episode follows its first part. No overlap: the alert vanished.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.store.models import AlertRecord

#: what makes two alerts "the same kind of alert": scope, ward, indicator and provider.
Kind = tuple[str, str, str | None, str | None]


@dataclass(frozen=True)
class Missing:
    """A stored alert the run did not produce (its identifying fields and episode)."""

    alert_id: str
    kind: Kind
    opened: dt.date
    closed: dt.date | None


@dataclass(frozen=True)
class Successor:
    """``alert_id`` is replaced by ``successor_id`` (``None``: the condition vanished)."""

    alert_id: str
    successor_id: str | None


def record_kind(rec: AlertRecord) -> Kind:
    """The kind of a run's alert (provider alerts are told apart by provider, others by ward)."""
    provider = rec.provider if rec.scope == "provider" else None
    return (rec.scope, rec.ward_id if rec.scope != "provider" else "", rec.indicator, provider)


def _overlaps(a0: dt.date, a1: dt.date, b0: dt.date, b1: dt.date) -> bool:
    return a0 <= b1 and b0 <= a1


def find_successors(
    missing: Iterable[Missing], run: Sequence[AlertRecord], data_end: dt.date
) -> list[Successor]:
    """The successor (or ``None``) of every missing alert, in the order given."""
    by_kind: dict[Kind, list[AlertRecord]] = defaultdict(list)
    for rec in run:
        by_kind[record_kind(rec)].append(rec)
    out = []
    for m in missing:
        end = m.closed or data_end
        best: AlertRecord | None = None
        for cand in by_kind.get(m.kind, ()):
            if not _overlaps(m.opened, end, cand.opened, cand.closed or data_end):
                continue
            gap = abs((cand.opened - m.opened).days)
            if best is None or (gap, cand.opened) < (abs((best.opened - m.opened).days), best.opened):
                best = cand
        out.append(Successor(m.alert_id, None if best is None else best.alert_id))
    return out
