"""Dashboard access to the triage store (``engine.store.TriageStore``).

The store holds every triage decision, note and audit line; the dashboard only reads it and calls
its lifecycle methods with the signed-in user as actor. Results are synced into the store (an
idempotent ``upsert_alerts`` of every scope, as a complete run stamped with ``run.json``'s
``scored_at``) the first time a results folder is seen, so an inbox exists even when ``wardwatch
score`` ran without ``--store``; re-scoring never erases a status or a note (a store guarantee), and
alerts a re-score no longer produces are linked to their successor or closed as superseded. Store
errors become polite one-line messages (:class:`ActionResult`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboard.services.results import Results
from engine.store import (
    OPEN_STATUSES,
    InvalidTransitionError,
    StaleWriteError,
    StoreError,
    TriageStore,
    UnknownAlertError,
    UpsertSummary,
)

logger = logging.getLogger(__name__)

SYNC_ACTOR = "wardwatch dashboard (results sync)"
ACTIONS = ("acknowledge", "investigate", "close", "note", "assign", "reopen")


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
    """Upsert the results folder's alerts (ward, indicator and provider scope) into the store as a
    complete run (idempotent; ``None`` when there are none)."""
    frame = results.alerts.with_columns(pl.col("indicator").replace("", None))
    if frame.is_empty():
        logger.info("results %s synced into the store: no alerts", results.results_dir)
        return None
    summary = store.upsert_alerts(frame, scored_at=_scored_at(results), actor=SYNC_ACTOR, complete=True)
    logger.info(
        "results %s synced into the store: %d new, %d updated, %d unchanged",
        results.results_dir,
        summary.inserted,
        summary.updated,
        summary.unchanged,
    )
    return summary


def inbox_frame(store: TriageStore, results: Results, **filters: object) -> pl.DataFrame:
    """Store alerts joined to ward names and the results' extension columns, in inbox order."""
    frame = store.alerts_frame(**filters)
    ext = results.alerts.select(
        "alert_id", pl.col("provider").alias("result_provider"), "contributing", "questions"
    )
    names = results.wards.select(
        "ward_id", "ward_name", pl.col("provider").alias("ward_provider"), "ward_type"
    )
    return (
        frame.with_row_index("_order")
        .join(ext, on="alert_id", how="left")
        .join(names, on="ward_id", how="left")
        .with_columns(
            pl.when(pl.col("scope") == "provider")
            .then(pl.col("provider"))
            .otherwise(pl.col("ward_name").fill_null(pl.col("ward_id")))
            .alias("ward_name"),
            pl.coalesce("provider", "result_provider", "ward_provider").fill_null("").alias("provider"),
            pl.col("contributing").fill_null(""),
            pl.col("questions").fill_null(""),
        )
        .drop("ward_provider", "result_provider")
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
    assignee: str | None = None,
    children: dict[str, int] | None = None,
) -> ActionResult:
    """Run one triage action and translate store errors into a polite message (logged at INFO).

    Parameters
    ----------
    action : {"acknowledge", "investigate", "close", "note", "assign", "reopen"}
    expected_version : int
        The alert version the user saw (ignored for notes, which only ever add).
    outcome : str, optional
        Required for ``close``.
    text : str, optional
        The note (``note``), closing note (``close``, required when the alert is new) or the reason
        (``reopen``, required); stored verbatim (never logged).
    assignee : str, optional
        ``assign``: the new owner (``None`` or blank clears it).
    children : dict, optional
        ``close``: indicator alerts (id -> version seen) to close with it, same outcome and note,
        each audited on its own; done after the ward alert, all in one transaction.
    """
    try:
        result = _apply(store, action, alert_id, actor, expected_version, outcome, text, assignee, children)
    except StaleWriteError:
        result = _STALE
    except InvalidTransitionError as exc:
        result = ActionResult(False, f"That step is not possible now: {exc}.")
    except UnknownAlertError:
        result = ActionResult(
            False, "This alert is not in the triage store (was the results folder changed?)."
        )
    except (StoreError, ValueError) as exc:
        result = ActionResult(False, f"Not saved: {exc}")
    _log_write(store, action, [alert_id, *(children or {})], actor, result)
    return result


def _log_write(
    store: TriageStore, action: str, alert_ids: list[str], actor: str, result: ActionResult
) -> None:
    """One INFO line per store write the dashboard asked for: action, alerts, actor, outcome."""
    shown = ", ".join(alert_ids[:5]) + (f" and {len(alert_ids) - 5} more" if len(alert_ids) > 5 else "")
    outcome = "saved" if result.ok else ("refused: stale version" if result.stale else "refused")
    logger.info("store %s: %s of %s by %s %s", store.path, action, shown, actor, outcome)


def _apply(
    store: TriageStore,
    action: str,
    alert_id: str,
    actor: str,
    version: int,
    outcome: str | None,
    text: str | None,
    assignee: str | None,
    children: dict[str, int] | None,
) -> ActionResult:
    """The store call of one :func:`perform` action (store errors propagate; refusals of input that
    needs no store are returned)."""
    if action == "assign":
        who = (assignee or "").strip() or None
        store.assign(alert_id, actor, who, version)
        return ActionResult(True, f"Alert assigned to {who}." if who else "Assignee removed.")
    if action == "reopen":
        if not text or not text.strip():
            return ActionResult(False, "Say why the alert is reopened: nothing was changed.")
        store.reopen(alert_id, actor, text, version)
        return ActionResult(True, "Alert reopened.")
    if action == "close" and children:
        if not outcome:
            return ActionResult(False, "Choose an outcome before closing the alert.")
        if not text or not text.strip():
            return ActionResult(
                False,
                "A closing note is required to close the alert with its indicator alerts: nothing was saved.",
            )
        store.bulk("close", {alert_id: version, **children}, actor, note=text, outcome=outcome)
        return ActionResult(True, f"Alert closed, with {len(children)} indicator alert(s).")
    if action == "acknowledge":
        store.acknowledge(alert_id, actor, version)
        return ActionResult(True, "Alert acknowledged.")
    if action == "investigate":
        store.start_investigation(alert_id, actor, version)
        return ActionResult(True, "Investigation started.")
    if action == "close":
        if not outcome:
            return ActionResult(False, "Choose an outcome before closing the alert.")
        store.close(alert_id, actor, outcome, version, note=(text or None))
        return ActionResult(True, "Alert closed.")
    if action == "note":
        if not text or not text.strip():
            return ActionResult(False, "The note is empty: nothing was saved.")
        store.add_note(alert_id, actor, text)
        return ActionResult(True, "Note saved.")
    return ActionResult(False, f"Unknown action {action!r}.")


_STALE = ActionResult(
    False,
    "Someone else changed this alert while you were looking at it, so your change was not "
    "saved. The latest state is shown now; please check it and try again.",
    stale=True,
)


def perform_bulk(
    store: TriageStore,
    action: str,
    targets: dict[str, int],
    actor: str,
    *,
    note: str,
    outcome: str | None = None,
) -> ActionResult:
    """Acknowledge or close several alerts with one required note (all or nothing)."""
    if not targets:
        return ActionResult(False, "No alerts chosen: nothing was changed.")
    if not note or not note.strip():
        return ActionResult(False, "A note is required for a bulk action: nothing was changed.")
    if action == "close" and not outcome:
        return ActionResult(False, "Choose an outcome before closing: nothing was changed.")
    try:
        store.bulk(action, targets, actor, note=note, outcome=outcome)
    except StaleWriteError:
        result = _STALE
    except InvalidTransitionError as exc:
        result = ActionResult(False, f"Nothing was changed: {exc}.")
    except (StoreError, ValueError) as exc:
        result = ActionResult(False, f"Nothing was changed: {exc}")
    else:
        done = "acknowledged" if action == "acknowledge" else "closed"
        result = ActionResult(
            True, f"{len(targets)} alert(s) {done}, each with your note and its own audit entry."
        )
    _log_write(store, f"bulk {action}", list(targets), actor, result)
    return result


def open_children(store: TriageStore, ward_alert_id: str) -> dict[str, int]:
    """Open indicator alerts under a ward alert: id -> current version (what closing it offers)."""
    return {
        a.alert_id: a.version for a in store.list_alerts(parent_id=ward_alert_id, status=list(OPEN_STATUSES))
    }
