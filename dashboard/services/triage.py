"""Dashboard access to the triage store (``engine.store.TriageStore``).

The store holds every triage decision, note and audit line; the dashboard only reads it and calls
its lifecycle methods with the signed-in user as actor. Results are synced into the store (an
idempotent ``upsert_alerts``) the first time a results folder is seen, so an inbox exists even when
``wardwatch score`` ran without ``--store``; re-scoring never erases a status or a note (a store
guarantee). Store errors become polite one-line messages (:class:`ActionResult`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboard.services.results import Results
from engine.store import (
    SCOPES,
    InvalidTransitionError,
    StaleWriteError,
    StoreError,
    TriageStore,
    UnknownAlertError,
    UpsertSummary,
)

SYNC_ACTOR = "wardwatch dashboard (results sync)"
ACTIONS = ("acknowledge", "investigate", "close", "note")


@dataclass(frozen=True)
class ActionResult:
    """Outcome of one triage action: ``ok`` and a message fit to show the user as is."""

    ok: bool
    message: str
    stale: bool = False


def open_store(path: Path | str) -> TriageStore:
    """Open (creating when absent, with its folder) the triage store at ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return TriageStore(p)


def _scored_at(results: Results) -> str | dt.datetime:
    for key in ("scored_at", "run_at", "time", "created_at", "started_at"):
        val = results.run.get(key)
        if isinstance(val, str) and len(val) >= 10:
            return val
    stat = (results.results_dir / "alerts.csv").stat()
    return dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC)


def sync_results(store: TriageStore, results: Results) -> UpsertSummary | None:
    """Upsert the results folder's alerts into the store (idempotent; ``None`` when there are none)."""
    # the store triages ward and indicator alerts; provider-wide shifts are context (no ward to visit)
    frame = results.alerts.filter(pl.col("scope").is_in(list(SCOPES))).with_columns(
        pl.col("indicator").replace("", None)
    )
    if frame.is_empty():
        return None
    return store.upsert_alerts(frame, scored_at=_scored_at(results), actor=SYNC_ACTOR)


def inbox_frame(store: TriageStore, results: Results, **filters: object) -> pl.DataFrame:
    """Store alerts joined to ward names and the results' extension columns, in inbox order."""
    frame = store.alerts_frame(**filters)
    ext = results.alerts.select("alert_id", "provider", "contributing", "questions")
    names = results.wards.select(
        "ward_id", "ward_name", pl.col("provider").alias("ward_provider"), "ward_type"
    )
    return (
        frame.with_row_index("_order")
        .join(ext, on="alert_id", how="left")
        .join(names, on="ward_id", how="left")
        .with_columns(
            pl.col("ward_name").fill_null(pl.col("ward_id")),
            pl.coalesce("provider", "ward_provider").fill_null("").alias("provider"),
            pl.col("contributing").fill_null(""),
            pl.col("questions").fill_null(""),
        )
        .drop("ward_provider")
        .sort("_order")
        .drop("_order")
    )


def perform(
    store: TriageStore,
    action: str,
    alert_id: str,
    actor: str,
    expected_version: int,
    *,
    outcome: str | None = None,
    text: str | None = None,
) -> ActionResult:
    """Run one triage action and translate store errors into a polite message.

    Parameters
    ----------
    action : {"acknowledge", "investigate", "close", "note"}
    expected_version : int
        The alert version the user saw (ignored for notes, which only ever add).
    outcome : str, optional
        Required for ``close``.
    text : str, optional
        The note (``note``) or optional closing note (``close``); stored verbatim.
    """
    try:
        if action == "acknowledge":
            store.acknowledge(alert_id, actor, expected_version)
            return ActionResult(True, "Alert acknowledged.")
        if action == "investigate":
            store.start_investigation(alert_id, actor, expected_version)
            return ActionResult(True, "Investigation started.")
        if action == "close":
            if not outcome:
                return ActionResult(False, "Choose an outcome before closing the alert.")
            store.close(alert_id, actor, outcome, expected_version, note=(text or None))
            return ActionResult(True, "Alert closed.")
        if action == "note":
            if not text or not text.strip():
                return ActionResult(False, "The note is empty: nothing was saved.")
            store.add_note(alert_id, actor, text)
            return ActionResult(True, "Note saved.")
        return ActionResult(False, f"Unknown action {action!r}.")
    except StaleWriteError:
        return ActionResult(
            False,
            "Someone else changed this alert while you were looking at it, so your change was not "
            "saved. The latest state is shown now; please check it and try again.",
            stale=True,
        )
    except InvalidTransitionError as exc:
        return ActionResult(False, f"That step is not possible now: {exc}.")
    except UnknownAlertError:
        return ActionResult(False, "This alert is not in the triage store (was the results folder changed?).")
    except (StoreError, ValueError) as exc:
        return ActionResult(False, f"Not saved: {exc}")
