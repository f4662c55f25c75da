"""Each ward's triage state where decisions are made (overview and ward pages, issue 22 item 4).

A ward's triage state is that of its **lead ward alert**: the ward-scope alert whose condition still
holds (latest opened), else its latest ward alert that is not superseded. The text says who owns
it and where it stands, e.g. "Investigating (jo.bloggs)" or "Closed: no concern found (jo.bloggs,
02/12/2026)".

**Re-opened evidence.** When the evidence of a ward alert closed as *no concern found* keeps
growing, the store opens a follow-up alert linked to it (``Alert.follows``, see
``engine.store.followups``); that follow-up leads the ward and the ward is flagged "re-opened
evidence since <date>" (the follow-up's opening period), naming the closed alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from dashboard.services.audit_words import ALL_OUTCOME_WORDS, ALL_STATUS_WORDS
from engine.contract.dates import uk_date
from engine.store import TriageStore


@dataclass(frozen=True)
class WardTriage:
    """One ward's triage state (``alert_id`` of its lead ward alert)."""

    ward_id: str
    alert_id: str
    status: str
    outcome: str | None
    owner: str | None
    changed: dt.date | None
    reopened_since: dt.date | None = None
    follows: str | None = None

    @property
    def text(self) -> str:
        """ "Investigating (jo)", "Closed: no concern found (jo, 02/12/2026)", "New (unassigned)"."""
        if self.status == "closed":
            words = ALL_OUTCOME_WORDS.get(self.outcome or "", self.outcome or "")
            extra = ", ".join(x for x in (self.owner, self.changed and uk_date(self.changed)) if x)
            return f"Closed: {words.lower()}" + (f" ({extra})" if extra else "")
        return f"{ALL_STATUS_WORDS.get(self.status, self.status)} ({self.owner or 'unassigned'})"

    @property
    def flag(self) -> str:
        """ "Re-opened evidence since dd/mm/yyyy" or empty."""
        return f"Re-opened evidence since {uk_date(self.reopened_since)}" if self.reopened_since else ""


def ward_triage(store: TriageStore, ward_ids: list[str] | None = None) -> dict[str, WardTriage]:
    """Triage state of every ward with a ward alert (or of ``ward_ids``), keyed by ward id."""
    frame = store.alerts_frame(scope="ward", **({} if ward_ids is None else {"ward": ward_ids}))
    if frame.is_empty():
        return {}
    lead = (
        frame.filter(pl.col("outcome").fill_null("") != "superseded")
        .sort([pl.col("closed").is_null(), "opened"], descending=[True, True])
        .group_by("ward_id", maintain_order=True)
        .first()
    )
    out = {}
    for r in lead.iter_rows(named=True):
        changed = r["status_changed_at"]
        out[r["ward_id"]] = WardTriage(
            ward_id=r["ward_id"],
            alert_id=r["alert_id"],
            status=r["status"],
            outcome=r["outcome"],
            owner=r["assignee"],
            changed=dt.date.fromisoformat(changed[:10]) if changed else None,
            reopened_since=r["opened"] if r["follows"] else None,
            follows=r["follows"],
        )
    return out


def with_triage_columns(table: pl.DataFrame, triage: dict[str, WardTriage]) -> pl.DataFrame:
    """``table`` (with ``ward_id``) plus ``Triage`` and ``Owner`` columns (flag appended)."""
    ids = table["ward_id"].to_list()
    texts, owners = [], []
    for w in ids:
        t = triage.get(w)
        texts.append("" if t is None else (t.text + (f" · {t.flag}" if t.flag else "")))
        owners.append(None if t is None else t.owner)
    return table.with_columns(
        pl.Series("Triage", texts, dtype=pl.String), pl.Series("Owner", owners, dtype=pl.String)
    )
