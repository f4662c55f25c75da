"""Which ward alert each indicator alert sits under (``alerts.parent_id``).

An indicator alert's parent is the ward alert of the same ward whose episode overlaps its own,
the latest opened when several do. Episodes are ``[opened, closed]``, an open episode running to
the end of time; superseded ward alerts are no parents. Computed for the whole store after each
upsert in one sorted sweep per ward (``O(n log n)``), and only changed links are written.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections import defaultdict

_END = "9999-12-31"


def link_parents(conn: sqlite3.Connection) -> int:
    """Set ``parent_id`` of every indicator alert; returns the number of links changed."""
    wards: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # ward -> (opened, end, id)
    indicators = []
    for alert_id, ward_id, scope, opened, closed, parent, live in conn.execute(
        "SELECT alert_id, ward_id, scope, opened, closed, parent_id, "
        "superseded_by IS NULL AND coalesce(outcome, '') <> 'superseded' "
        "FROM alerts WHERE scope IN ('ward', 'indicator')"
    ):
        if scope == "ward":
            if live:
                wards[ward_id].append((opened, closed or _END, alert_id))
        else:
            indicators.append((alert_id, ward_id, opened, closed or _END, parent))
    for episodes in wards.values():
        episodes.sort()
    opened_of = {w: [e[0] for e in eps] for w, eps in wards.items()}
    changes = []
    for alert_id, ward_id, opened, end, parent in indicators:
        eps = wards.get(ward_id, [])
        found = None
        # ward alerts opened by the indicator alert's end, latest first; the first still open at
        # the indicator alert's opening overlaps it
        for i in range(bisect.bisect_right(opened_of.get(ward_id, []), end) - 1, -1, -1):
            if eps[i][1] >= opened:
                found = eps[i][2]
                break
        if found != parent:
            changes.append((found, alert_id))
    conn.executemany("UPDATE alerts SET parent_id = ? WHERE alert_id = ?", changes)
    return len(changes)
