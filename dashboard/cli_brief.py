"""``wardwatch brief``: print walk-the-patch briefings (PDF, and HTML) for wards from a results folder."""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sys
from pathlib import Path

from engine.cli import CliError

HELP = "Write a printable one-page briefing per ward (PDF via WeasyPrint, and HTML) from a results folder."


def _date(text: str) -> dt.date:
    from engine.contract.dates import parse_input_date

    try:
        return parse_input_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", required=True, help="results folder written by `wardwatch score`")
    parser.add_argument("--ward", action="append", required=True, help="ward id (repeat for several wards)")
    parser.add_argument("--out", required=True, help="PDF file to write")
    parser.add_argument("--html", help="also write the briefing as HTML to this file")
    parser.add_argument(
        "--data", help="data folder with wards.csv and events.csv (default: parent of --results)"
    )
    parser.add_argument(
        "--store", help="triage store for notes (default: DATA/.wardwatch/triage.db if present)"
    )
    parser.add_argument("--last-visit", type=_date, help="list changes since this date (default: 13 weeks)")


def run(args: argparse.Namespace) -> int:
    from dashboard.services.briefing import render_briefing
    from dashboard.services.results import ResultsError, load_results

    results_dir = Path(args.results).expanduser().resolve()
    data_dir = Path(args.data).expanduser().resolve() if args.data else results_dir.parent
    try:
        res = load_results(results_dir, data_dir)
    except ResultsError as exc:
        raise CliError(str(exc)) from None
    known = set(res.latest["ward_id"].to_list())
    for w in args.ward:
        if w not in known:
            near = difflib.get_close_matches(w, sorted(known), n=3)
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise CliError(f"ward {w!r} is not in {results_dir}{hint}")
    store = None
    store_path = Path(args.store) if args.store else data_dir / ".wardwatch" / "triage.db"
    if store_path.exists():
        from engine.store import TriageStore

        store = TriageStore(store_path, create=False)
    elif args.store:
        raise CliError(f"triage store {store_path} does not exist")
    out = render_briefing(res, list(dict.fromkeys(args.ward)), last_visit=args.last_visit, store=store)
    pdf_path = Path(args.out)
    html_path = Path(args.html) if args.html else None
    if out.pdf is None:
        html_path = html_path or pdf_path.with_suffix(".html")
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(out.html, encoding="utf-8")
        print(f"wardwatch brief: {out.note} Wrote {html_path}.", file=sys.stderr)
        return 1
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(out.pdf)
    if html_path:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(out.html, encoding="utf-8")
    wards = len(dict.fromkeys(args.ward))
    print(
        f"wardwatch brief: {wards} ward(s), {out.pages} A4 page(s) -> {pdf_path}"
        + (f" and {html_path}" if html_path else "")
    )
    return 0
