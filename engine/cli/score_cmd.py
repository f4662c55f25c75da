"""``wardwatch score``: validate, score and write a results folder (optionally update the triage store).

Exit codes: 0 scored with every input row accepted; 1 scored, but some input rows were rejected (listed
on stderr and in ``rejected.csv``); 2 refused (a file, setting or store the user can fix).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
from contextlib import suppress
from typing import TYPE_CHECKING

from engine.cli import CliError
from engine.cli.settings_args import add_config_options, config_from_args

if TYPE_CHECKING:
    from engine.config import Config
    from engine.io import LoadResult
    from engine.store import TriageStore

HELP = "Score ward data: ward levels, alerts with explanations, per-series statistics."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--observations", required=True, help="observations CSV or Parquet (long or wide)")
    p.add_argument("--wards", required=True, help="ward register CSV")
    p.add_argument("--events", help="events CSV (rebase, reconfiguration, manager_change, note)")
    add_config_options(p, help="configuration TOML (see `wardwatch config show`)")
    p.add_argument(
        "--as-of", dest="as_of", help="score as if today were DATE (YYYY-MM-DD): use data up to it"
    )
    p.add_argument("--out", required=True, help="results folder to write")
    p.add_argument("--store", help="triage store (SQLite) to upsert the alerts into")
    p.add_argument(
        "--no-charts", action="store_true", help="skip MDC charts and change points in series.parquet"
    )
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="calibrate the alert thresholds on this trust's own data first (in-control simulation, "
        "as calibrate-alerts); the chosen thresholds and predicted false-alarm rates go to run.json",
    )
    p.add_argument(
        "--calibrate-replicates", type=int, help="in-control replicates for --calibrate (default from config)"
    )
    p.add_argument(
        "--retrospective",
        action="store_true",
        help="short-history retrospective analysis (whole history, looks ahead by design): change "
        "points, leave-out baselines, data silence; written to --out apart from monitoring results",
    )


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{what}: expected a date YYYY-MM-DD, got {text!r}") from None


def _load(args: argparse.Namespace, config: Config) -> LoadResult:
    """Load and validate the inputs, reporting rejected rows on stderr."""
    from engine.io import FatalInputError, load_dataset

    try:
        load = load_dataset(
            args.observations,
            args.wards,
            args.events,
            catalogue=config.build_catalogue(),
            limits=config.input,
        )
    except FatalInputError as exc:
        raise CliError(str(exc)) from None
    if load.n_rejected:
        print(f"{load.n_rejected} input rows rejected (see rejected.csv):", file=sys.stderr)
        for line in load.rejected_by_reason_lines():
            print(line, file=sys.stderr)
    return load


def warm_up_kernels() -> threading.Thread:
    """Start numba's one-off set-up on another thread; returns the (non-daemon) thread.

    The first compiled call of a process pays ~0.3 s (0.7-0.9 s on a busy host) to build numba's
    typing and target contexts and load its first cached kernel, all Python work holding the GIL.
    Started before the input file is read (native code that releases the GIL), it overlaps the read
    instead of following it. It loads the loader's first kernel (the numerator parser); a call made
    meanwhile on the main thread waits on numba's compiler lock and finds it loaded. Any error is left
    for the real call to raise.
    """

    def load_first_kernel() -> None:
        with suppress(Exception):  # an optimisation only: the real call reports any error
            from engine.io.parse import load_number_kernel

            load_number_kernel()

    thread = threading.Thread(target=load_first_kernel, name="kernel-warm-up")
    thread.start()
    return thread


def alert_count_line(scopes: list[str]) -> str:
    """``alerts in this run: N (W ward, I indicator, P provider-wide)``."""
    n = {scope: scopes.count(scope) for scope in ("ward", "indicator", "provider")}
    return (
        f"alerts in this run: {len(scopes)} ({n['ward']} ward, {n['indicator']} indicator, "
        f"{n['provider']} provider-wide), past and present episodes"
    )


def store_summary_lines(store: TriageStore, store_path: str, alerts: object, run_json: object) -> list[str]:
    """Upsert the run's alerts (every scope, a complete run) into the store; what to print.

    The run's own timestamp (``run.json``'s ``scored_at``) is the store's ``scored_at``, so the
    dashboard's later sync of the same results folder is recognised as the same run.
    """
    import json
    from pathlib import Path

    from engine.store import StoreError

    try:
        scored_at = json.loads(Path(str(run_json)).read_text(encoding="utf-8")).get("scored_at")
    except (OSError, ValueError, TypeError):
        scored_at = None
    try:
        summary = store.upsert_alerts(alerts, scored_at=scored_at, complete=True)
        counts = store.inbox_counts()
    except (StoreError, ValueError) as exc:
        raise CliError(f"triage store {store_path}: {exc}") from None
    return [f"triage store {store_path}:", *(f"  {line}" for line in (*summary.lines(), *counts.lines()))]


def run(args: argparse.Namespace) -> int:
    from engine.runtime.process import keep_freed_memory, no_huge_pages, paused_cyclic_gc

    keep_freed_memory()  # before the imports below start any thread
    no_huge_pages()
    from engine.scoring.outputs import score_and_write

    warm_up_kernels()
    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    config = config_from_args(args)
    inputs = {
        "observations": args.observations,
        "wards": args.wards,
        "events": args.events,
        "config": args.config,
    }
    if args.retrospective:
        return _run_retrospective(args, config, inputs)
    store = None
    if args.store:  # opened (and migrated) before scoring: a store that cannot be used refuses the run
        from engine.store import TriageStore

        store = TriageStore(args.store, settings=config.store)
    from pathlib import Path

    if (Path(args.out) / "retrospective.json").exists():
        raise CliError(f"{args.out} holds a retrospective analysis: write monitoring results elsewhere")
    try:
        # The load is handed over, not kept here, so its observations are freed once scored.
        with paused_cyclic_gc():
            loads = [_load(args, config)]
            n_rejected = loads[0].n_rejected
            calibration = None
            if args.calibrate:
                config, calibration = _calibrate(args, loads[0], config, as_of)
            result, paths = score_and_write(
                loads.pop(), config, args.out, inputs, as_of=as_of, with_charts=not args.no_charts
            )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if calibration is not None:
        from engine.scoring.autocalibrate import record_calibration

        record_calibration(paths["run"], calibration)
    levels = result.ward_status.filter(result.ward_status["period"] == result.ward_status["period"].max())
    counts = levels.group_by("level").len().sort("level").iter_rows()
    print(
        f"scored {len(result.wards.ward_id)} wards up to {result.wards.periods[-1]}: "
        + ", ".join(f"{n} {lvl}" for lvl, n in counts)
    )
    print(alert_count_line(result.alerts["scope"].to_list()))
    rep = result.reporting  # the table reporting.csv was written from
    print(
        f"reporting: {(rep['kind'] == 'data_silence').sum()} data-silence runs judged against peers, "
        f"{int(rep['discontinuity'].fill_null(False).sum())} reporting discontinuities (reporting.csv)"
    )
    if store is not None:
        for line in store_summary_lines(store, args.store, result.alerts, paths["run"]):
            print(line)
    print(f"results written to {paths['run'].parent}")
    if n_rejected:
        print(f"{n_rejected} input row(s) were rejected and not scored (see rejected.csv): exit 1")
        return 1
    return 0


def _calibrate(
    args: argparse.Namespace, load: LoadResult, config: Config, as_of: dt.date | None
) -> tuple[Config, dict]:
    """``--calibrate``: thresholds from this trust's in-control simulation (engine/scoring/autocalibrate.py)."""
    from tqdm import tqdm

    from engine.scoring.autocalibrate import calibrate_for_run

    if args.calibrate_replicates is not None and args.calibrate_replicates < 1:
        raise CliError("--calibrate-replicates must be at least 1")
    total = args.calibrate_replicates or config.combination.calibration_replicates
    with tqdm(total=total, desc="calibrate", unit="replicate", file=sys.stderr) as bar:
        calibrated, record = calibrate_for_run(
            load, config, as_of, args.calibrate_replicates, None, lambda done, _n: bar.update(done - bar.n)
        )
    t, pred = record["thresholds"], record["predicted"]
    print(
        f"calibrated on this trust ({record['replicates']} in-control replicates, data up to "
        f"{record['data_up_to']}): concern {t['concern_threshold']:g}, urgent {t['urgent_threshold']:g}, "
        f"watch {t['watch_threshold']} nats; predicted {pred['false_concern_per_ward_year']:.3f} false "
        f"concern alerts per ward-year, {pred['watch_share'] or 0:.1%} of ward-weeks at watch"
    )
    return calibrated, record


def _run_retrospective(args: argparse.Namespace, config: Config, inputs: dict[str, str | None]) -> int:
    """``--retrospective``: whole-history analysis written apart from monitoring output."""
    from engine.scoring.retrospective import RETROSPECTIVE_LABEL, retrospective, write_retrospective

    if args.as_of or args.store or args.calibrate:
        raise CliError(
            "--retrospective takes no --as-of, --store or --calibrate: it is not monitoring output"
        )
    load = _load(args, config)
    result = retrospective(
        load.observations,
        load.cadence,
        load.wards,
        config.build_catalogue(),
        config.changepoint,
        config.retrospective,
        events=load.events,
        peer=config.peer_silence,
    )
    try:
        paths = write_retrospective(result, args.out, inputs)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    rep = result.reporting
    print(RETROSPECTIVE_LABEL)
    print(f"periods {result.first} to {result.last}")
    print(
        f"changes: {result.changes.height} (series with a change: {result.changes.select('ward_id', 'indicator').n_unique()})"
    )
    print(
        f"data silence: {(rep['kind'] == 'data_silence').sum()} runs in "
        f"{rep.filter(rep['kind'] == 'data_silence').select('ward_id', 'indicator').n_unique()} series; "
        f"reporting discontinuities: {int(rep['discontinuity'].fill_null(False).sum())}"
    )
    print(f"retrospective results written to {paths['run'].parent}")
    return 1 if load.n_rejected else 0
