"""Follow-up alerts: evidence that keeps growing after a person closed an alert as "no concern".

The reopening rule (``TriageStore``) leaves a ``no_concern`` closure standing while the condition
merely persists. When the evidence *keeps growing* after the closure (a later run's statistic is
above the statistic the person saw when closing, for a later period) the ward needs a fresh look
without overturning the recorded judgement: a **follow-up alert** is opened, ``new``, linked to the
closed one (``follows``), with id ``<closed id>-R<n>``, ``opened`` = the period of the first run that
showed the growth ("re-opened evidence since <date>"). Its scored fields then mirror the closed
alert on every run (its condition ends when the closed alert's does); it is never retired as
"no longer produced" (scoring never produces it), but goes with its closed alert when a re-score
supersedes that one. At most one follow-up per closed alert is open at a time.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from engine.contract.dates import uk_date

_MIRRORED = ("level", "direction", "last_seen", "closed", "statistic", "threshold")

#: closed-as-no-concern alerts whose condition holds and that have no live follow-up.
_CANDIDATES = """SELECT a.alert_id, a.status_changed_at, a.statistic, a.last_seen
FROM alerts a
WHERE a.status = 'closed' AND a.outcome = 'no_concern' AND a.closed IS NULL
  AND a.superseded_by IS NULL AND a.follows IS NULL AND a.statistic IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM alerts f WHERE f.follows = a.alert_id AND f.status <> 'closed')"""


def _growth_since(conn: sqlite3.Connection, alert_id: str, closed_at: str) -> str | None:
    """``last_seen`` of the first evidence after the closure above the evidence current at closure."""
    ref = conn.execute(
        "SELECT statistic, last_seen FROM evidence WHERE alert_id = ? AND scored_at <= ? "
        "ORDER BY id DESC LIMIT 1",
        (alert_id, closed_at),
    ).fetchone()
    if ref is None or ref[0] is None:
        return None
    row = conn.execute(
        "SELECT last_seen FROM evidence WHERE alert_id = ? AND scored_at > ? AND statistic > ? "
        "AND last_seen > ? ORDER BY id LIMIT 1",
        (alert_id, closed_at, ref[0], ref[1] or ""),
    ).fetchone()
    return None if row is None else row[0]


def open_followups(conn: sqlite3.Connection, ts: str, who: str) -> list[str]:
    """Open a follow-up for every no-concern closure whose evidence grew since; their ids."""
    opened = []
    audit: list[tuple[Any, ...]] = []
    for alert_id, closed_at, _statistic, _last_seen in conn.execute(_CANDIDATES).fetchall():
        since = _growth_since(conn, alert_id, closed_at or "")
        if since is None:
            continue
        n = conn.execute("SELECT count(*) FROM alerts WHERE follows = ?", (alert_id,)).fetchone()[0]
        new_id = f"{alert_id}-R{n + 1}"
        closed_day = uk_date(closed_at)
        since_day = uk_date(since)
        conn.execute(
            """INSERT INTO alerts (alert_id, ward_id, scope, indicator, method, level, direction, opened,
                onset_estimate, last_seen, closed, statistic, threshold, explanation, first_scored_at,
                last_scored_at, status, status_changed_at, provider, follows, reopened_reason)
            SELECT ?, ward_id, scope, indicator, method, level, direction, ?, onset_estimate, last_seen,
                closed, statistic, threshold, ?, ?, ?, 'new', ?, provider, alert_id, ?
            FROM alerts WHERE alert_id = ?""",
            (
                new_id, since,
                f"Re-opened evidence since {since_day}: the evidence kept growing after alert {alert_id} was "
                f"closed as no concern found on {closed_day}. "
                + conn.execute("SELECT explanation FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone()[0],
                ts, ts, ts, f"evidence kept growing after {alert_id} was closed as no concern", alert_id,
            ),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO evidence (alert_id, scored_at, level, statistic, threshold, last_seen, closed, "
            "explanation) SELECT ?, ?, level, statistic, threshold, last_seen, closed, explanation "
            "FROM alerts WHERE alert_id = ?",
            (new_id, ts, new_id),
        )
        audit.append((new_id, ts, who, "created", "status", None, "new"))
        audit.append((new_id, ts, who, "follows", "follows", None, alert_id))
        audit.append((alert_id, ts, who, "followed_up", "followed_by", None, new_id))
        opened.append(new_id)
    conn.executemany(
        "INSERT INTO audit (alert_id, at, actor, action, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)", audit
    )
    return opened


def mirror_followups(conn: sqlite3.Connection, ts: str, who: str) -> None:
    """Give every live follow-up its closed alert's latest scored fields; retire it with its alert."""
    cols = ", ".join(_MIRRORED)
    live = conn.execute(
        f"SELECT f.alert_id, f.follows, a.superseded_by, a.outcome, {', '.join('f.' + c for c in _MIRRORED)}, "
        f"{', '.join('a.' + c for c in _MIRRORED)} FROM alerts f JOIN alerts a ON a.alert_id = f.follows "
        "WHERE f.status <> 'closed'"
    ).fetchall()
    audit: list[tuple[Any, ...]] = []
    k = len(_MIRRORED)
    for row in live:
        fid, followed, successor, outcome = row[:4]
        mine, theirs = row[4 : 4 + k], row[4 + k :]
        if successor is not None or outcome == "superseded":
            conn.execute(
                "UPDATE alerts SET status = 'closed', outcome = 'superseded', superseded_by = ?, "
                "status_changed_at = ?, version = version + 1 WHERE alert_id = ?",
                (successor, ts, fid),
            )
            audit.append((fid, ts, who, "superseded", "superseded_by", None, successor or followed))
            continue
        if tuple(mine) != tuple(theirs):
            conn.execute(
                f"UPDATE alerts SET ({cols}) = ({', '.join('?' * k)}), last_scored_at = ? WHERE alert_id = ?",
                (*theirs, ts, fid),
            )
            if mine[0] != theirs[0]:
                audit.append((fid, ts, who, "level_changed", "level", mine[0], theirs[0]))
            if mine[3] != theirs[3]:
                action = "condition_closed" if theirs[3] is not None else "condition_reopened"
                audit.append((fid, ts, who, action, "closed", mine[3], theirs[3]))
    conn.executemany(
        "INSERT INTO audit (alert_id, at, actor, action, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)", audit
    )
