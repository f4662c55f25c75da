"""``wardwatch alerts``: triage from the command line, for people without the dashboard.

Examples::

    wardwatch alerts list --store DB [--status new] [--ward W] [--level urgent] [--format csv]
    wardwatch alerts show ID --store DB
    wardwatch alerts summary --store DB                  (what the inbox holds, as the dashboard counts it)
    wardwatch alerts ack ID --actor NAME [--assignee NAME] [--expect-version N]
    wardwatch alerts investigate ID --actor NAME [--assignee NAME] [--expect-version N]
    wardwatch alerts note ID --author NAME --text TEXT          (--text - reads the note from stdin)
    wardwatch alerts close ID --outcome action_taken --actor NAME [--note TEXT] [--expect-version N]
    wardwatch alerts reopen ID --actor NAME --reason TEXT [--expect-version N]
    wardwatch alerts assign ID --actor NAME --assignee NAME     (--assignee "" clears it)
    wardwatch alerts close-ended --actor NAME --note TEXT [--dry-run]
                                  (close every alert whose condition ended before anyone triaged it)

``--store`` defaults to ``$WARDWATCH_STORE``, else ``.wardwatch/triage.db`` in the current folder; the
store must already exist (scoring creates it). ``--expect-version`` is the version shown by
``list``/``show``: with it, the change is refused if anyone changed the alert since you looked.
Without it, the change applies to the current version (the transition is still checked).
Exit 2 with one line on stderr for an unknown alert, an invalid transition or a stale write.
Output piped into a command that stops reading (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from engine.cli import CliError
from engine.store import (
    PERSON_OUTCOMES,
    SCOPES,
    STATUSES,
    Alert,
    EvidenceEntry,
    StoreError,
    TriageStore,
    default_store_path,
)

HELP = "Triage alerts in the store: list, show, ack, investigate, note, close, reopen, assign."

_LIST_COLUMNS = ("alert_id", "ward", "scope", "indicator", "level", "status", "opened", "last_seen",
                 "condition", "assignee", "notes", "version")  # fmt: skip
#: what a successful action did, in words (``{assignee}`` filled for ``assign``).
_DONE = {
    "ack": "acknowledged",
    "investigate": "investigation started",
    "close": "closed",
    "reopen": "reopened (now new)",
}


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--store",
        metavar="DB",
        help="triage store file (default: $WARDWATCH_STORE, else .wardwatch/triage.db here)",
    )
    return p


def _versioned(p: argparse.ArgumentParser) -> None:
    p.add_argument("alert_id", metavar="ID")
    p.add_argument("--actor", required=True, metavar="NAME", help="who makes the change (audit log)")
    p.add_argument(
        "--expect-version",
        type=int,
        metavar="N",
        help="refuse the change unless the alert is still at this version (from list/show)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``alerts`` actions."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    common = [_common()]

    p = sub.add_parser("list", parents=common, help="list alerts, most urgent first")
    p.add_argument("--status", action="append", choices=STATUSES, help="keep this status (repeatable)")
    p.add_argument("--ward", action="append", metavar="W", help="keep this ward (repeatable)")
    p.add_argument("--level", action="append", metavar="L", help="keep this level (repeatable)")
    p.add_argument("--scope", choices=SCOPES)
    p.add_argument("--provider", action="append", metavar="P", help="keep this provider (repeatable)")
    p.add_argument("--assignee", metavar="NAME", help="keep alerts assigned to NAME")
    p.add_argument("--unassigned", action="store_true", help="keep alerts nobody owns")
    p.add_argument(
        "--condition", choices=("open", "closed"), help="keep alerts whose condition still holds / ended"
    )
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument("--format", choices=("table", "csv"), default="table")

    p = sub.add_parser("summary", parents=common, help="what the inbox holds (the dashboard's counts)")

    p = sub.add_parser("show", parents=common, help="one alert with evidence, notes and audit log")
    p.add_argument("alert_id", metavar="ID")

    for name, text in (("ack", "acknowledge a new alert"), ("investigate", "start investigating")):
        p = sub.add_parser(name, parents=common, help=text)
        _versioned(p)
        p.add_argument("--assignee", metavar="NAME", help="also assign the alert")

    p = sub.add_parser("note", parents=common, help="add a note (never needs a version)")
    p.add_argument("alert_id", metavar="ID")
    p.add_argument("--author", required=True, metavar="NAME")
    p.add_argument("--text", required=True, help="the note, stored verbatim ('-' reads stdin)")

    p = sub.add_parser("close", parents=common, help="close with an outcome")
    _versioned(p)
    p.add_argument("--outcome", required=True, choices=PERSON_OUTCOMES)
    p.add_argument(
        "--note",
        metavar="TEXT",
        help="closing note, saved in the same transaction (required for a new alert)",
    )

    p = sub.add_parser("reopen", parents=common, help="reopen a closed alert, with a reason")
    _versioned(p)
    p.add_argument("--reason", required=True)

    p = sub.add_parser("assign", parents=common, help="set or clear the assignee")
    _versioned(p)
    p.add_argument("--assignee", required=True, metavar="NAME", help="'' clears the assignee")

    p = sub.add_parser(
        "close-ended",
        parents=common,
        help="close, in one go, every new alert whose condition ended before anyone triaged it",
    )
    p.add_argument("--actor", required=True, metavar="NAME")
    p.add_argument("--note", required=True, metavar="TEXT", help="why (added to every alert closed)")
    p.add_argument("--days", type=int, metavar="N", help="ended more than N days before the data end")
    p.add_argument("--dry-run", action="store_true", help="only count them")


def _clean(value: object, *, one_line: bool = True) -> str:
    """Text safe for a terminal: control characters shown as escapes (the store keeps them verbatim)."""
    if value is None:
        return ""
    out = []
    for ch in str(value):
        if ch == "\n" and not one_line:
            out.append(ch)
        elif ch in "\n\r\t" and one_line:
            out.append(" ")
        elif unicodedata.category(ch) == "Cc" and ch != "\t":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], max_width: int = 40) -> str:
    cells = [[_clean(c) for c in row] for row in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _condition(a: Alert, data_end: object, days: int) -> str:
    if a.superseded_by or a.outcome == "superseded":
        return f"superseded by {a.superseded_by}" if a.superseded_by else "superseded (no longer found)"
    if a.closed is None:
        return "holds"
    if a.ended_before_triage(data_end, days):  # type: ignore[arg-type]
        return f"ended {a.closed}, before triage"
    return f"ended {a.closed}"


def _row(a: Alert, data_end: object, days: int) -> list[object]:
    where = a.ward_id if a.scope != "provider" else f"({a.provider})"
    return [a.alert_id, where, a.scope, a.indicator, a.level, a.status + (" (reopened)" if a.reopened_reason else ""),
            a.opened, a.last_seen, _condition(a, data_end, days), a.assignee, a.note_count, a.version]  # fmt: skip


def _store_path(args: argparse.Namespace) -> Path:
    if args.store:
        return Path(args.store)
    env = os.environ.get("WARDWATCH_STORE")
    return Path(env) if env else default_store_path(".")


def _version(store: TriageStore, args: argparse.Namespace) -> int:
    if args.expect_version is not None:
        return int(args.expect_version)
    return store.get(args.alert_id).alert.version


def _list(store: TriageStore, args: argparse.Namespace) -> None:
    alerts = store.list_alerts(
        status=args.status,
        ward=args.ward,
        level=args.level,
        scope=args.scope,
        condition_open=None if args.condition is None else args.condition == "open",
        provider=args.provider,
        assignee=args.assignee,
        unassigned=True if args.unassigned else None,
        limit=args.limit,
    )
    if args.format == "csv":
        fields = list(Alert.__dataclass_fields__)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(fields)
        for a in alerts:
            writer.writerow([_safe_cell(v) for v in a.as_dict().values()])
        return
    if not alerts:
        print("no alerts match")
        return
    end, days = store.data_end(), store.settings.ended_before_triage_days
    print(_table(_LIST_COLUMNS, [_row(a, end, days) for a in alerts]))
    print(f"\n{len(alerts)} alert(s)")


def _safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula (``'`` before a leading = + - @ tab CR)."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _show(store: TriageStore, args: argparse.Namespace) -> None:
    d = store.get(args.alert_id)
    a = d.alert
    fields = [
        ("alert", a.alert_id), ("ward", a.ward_id or None), ("provider", a.provider), ("scope", a.scope),
        ("indicator", a.indicator), ("method", a.method), ("level", a.level), ("direction", a.direction),
        ("opened", a.opened), ("onset estimate", a.onset_estimate), ("last seen", a.last_seen),
        ("condition", _condition(a, store.data_end(), store.settings.ended_before_triage_days)),
        ("statistic", a.statistic), ("threshold", a.threshold), ("status", a.status),
        ("outcome", a.outcome), ("assignee", a.assignee), ("reopened because", a.reopened_reason),
        ("under ward alert", a.parent_id), ("superseded by", a.superseded_by),
        ("version", a.version), ("first scored", a.first_scored_at), ("last scored", a.last_scored_at),
    ]  # fmt: skip
    for key, value in fields:
        if value is not None:
            print(f"{key + ':':<18}{_clean(value)}")
    print(f"\nExplanation:\n  {_clean(a.explanation, one_line=False).replace(chr(10), chr(10) + '  ')}")
    runs = _one_per_run(d.evidence)
    print(f"\nEvidence ({len(runs)} scoring run(s) that changed it, oldest first):")
    print(_table(("scored_at", "level", "statistic", "threshold", "last_seen", "ended"),
                 [(e.scored_at, e.level, e.statistic, e.threshold, e.last_seen, e.closed) for e in runs]))  # fmt: skip
    print(f"\nNotes ({len(d.notes)}):")
    for n in d.notes:
        body = _clean(n.text, one_line=False).replace("\n", "\n    ")
        print(f"  #{n.id} {n.created_at} {_clean(n.author)}:\n    {body}")
    for old in store.predecessors(a.alert_id):
        prior = store.get(old.alert_id)
        print(f"\nReplaces {old.alert_id} (opened {old.opened}, {old.status}; {len(prior.notes)} note(s)):")
        for n in prior.notes:
            body = _clean(n.text, one_line=False).replace("\n", "\n    ")
            print(f"  #{n.id} {n.created_at} {_clean(n.author)}:\n    {body}")
    print(f"\nAudit log ({len(d.audit)}):")
    print(_table(("at", "actor", "action", "field", "old", "new"),
                 [(e.at, e.actor, e.action, e.field, e.old, e.new) for e in d.audit], max_width=60))  # fmt: skip


def _one_per_run(evidence: Sequence[EvidenceEntry]) -> list[EvidenceEntry]:
    """The last evidence row of each scoring run, ordered by run time (one row per run)."""
    by_run: dict[str, EvidenceEntry] = {}
    for e in evidence:
        by_run[e.scored_at] = e
    return [by_run[k] for k in sorted(by_run)]


def _close_ended(store: TriageStore, args: argparse.Namespace) -> None:
    days = store.settings.ended_before_triage_days if args.days is None else args.days
    end = store.data_end()
    ended = [
        a for a in store.list_alerts(status="new", condition_open=False) if a.ended_before_triage(end, days)
    ]
    if args.dry_run or not ended:
        print(f"{len(ended)} alert(s) ended more than {days} days before {end} without triage")
        return
    store.bulk("close", {a.alert_id: a.version for a in ended}, args.actor, note=args.note,
               outcome="ended_before_triage")  # fmt: skip
    print(f"closed {len(ended)} alert(s) as ended before triage, by {_clean(args.actor)}")


def _done(action: str, alert: Alert, args: argparse.Namespace) -> str:
    """``ID: acknowledged by NAME; status acknowledged, version 2`` (correct verb per action)."""
    if action == "assign":
        what = f"assigned to {_clean(alert.assignee)}" if alert.assignee else "unassigned"
    elif action == "close":
        what = f"closed as {alert.outcome}"
    else:
        what = _DONE[action]
    return f"{alert.alert_id}: {what} by {_clean(args.actor)}; status {alert.status}, version {alert.version}"


def _note_text(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


def run(args: argparse.Namespace) -> int:
    """Run one ``alerts`` action; store errors become ``CliError`` (exit 2).

    A reader that closes the pipe early (``wardwatch alerts list | head``) ends the command quietly
    with exit 0: the rest of the output is simply not wanted.
    """
    try:
        return _run(args)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush must not raise again
        os.close(devnull)
        return 0


def _run(args: argparse.Namespace) -> int:
    path = _store_path(args)
    try:
        store = TriageStore(path, create=False)
        action = args.action
        if action == "list":
            _list(store, args)
            return 0
        if action == "show":
            _show(store, args)
            return 0
        if action == "summary":
            for line in store.inbox_counts().lines():
                print(line)
            return 0
        if action == "close-ended":
            _close_ended(store, args)
            return 0
        if action == "note":
            note = store.add_note(args.alert_id, args.author, _note_text(args.text))
            print(f"{args.alert_id}: note #{note.id} added by {_clean(note.author)}")
            return 0
        version = _version(store, args)
        if action == "ack":
            kw = {} if args.assignee is None else {"assignee": args.assignee}
            alert = store.acknowledge(args.alert_id, args.actor, version, **kw)
        elif action == "investigate":
            kw = {} if args.assignee is None else {"assignee": args.assignee}
            alert = store.start_investigation(args.alert_id, args.actor, version, **kw)
        elif action == "close":
            alert = store.close(args.alert_id, args.actor, args.outcome, version, note=args.note)
        elif action == "reopen":
            alert = store.reopen(args.alert_id, args.actor, args.reason, version)
        elif action == "assign":
            alert = store.assign(args.alert_id, args.actor, args.assignee or None, version)
        else:  # pragma: no cover - argparse restricts the choices
            raise CliError(f"unknown action {action!r}")
    except (StoreError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    print(_done(action, alert, args))
    return 0
