"""``wardwatch demo``: generate a synthetic trust, score it, and serve the dashboard on localhost."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from engine.cli import CliError

HELP = "Generate a synthetic trust, score it and serve the dashboard (the README's first command)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo-data", help="data folder to create (default demo-data)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic trust (default 1)")
    p.add_argument("--wards", type=int, default=40, help="wards in the synthetic trust (default 40)")
    p.add_argument("--weeks", type=int, default=156, help="weeks of data (default 156 = 3 years)")
    p.add_argument(
        "--fresh", action="store_true", help="regenerate even if the folder already has a scored trust"
    )
    p.add_argument("--no-serve", action="store_true", help="stop after scoring (do not start the dashboard)")
    p.add_argument("--port", type=int, default=8501, help="dashboard port on localhost (default 8501)")


def run(args: argparse.Namespace) -> int:
    from engine.cli import main as cli_main
    from engine.store import default_store_path

    data = Path(args.out).expanduser().resolve()
    results = data / "results"
    store = default_store_path(data)
    ready = (results / "ward_status.csv").exists() and (data / "observations.csv").exists()
    if args.fresh and data.exists():
        shutil.rmtree(data)
        ready = False
    if not ready:
        print(f"generating a synthetic trust of {args.wards} wards x {args.weeks} weeks in {data} ...")
        code = cli_main(
            [
                "synth",
                "--out",
                str(data),
                "--wards",
                str(args.wards),
                "--weeks",
                str(args.weeks),
                "--seed",
                str(args.seed),
            ]
        )
        if code:
            raise CliError("generating the synthetic trust failed")
        store.parent.mkdir(parents=True, exist_ok=True)
        code = cli_main(
            [
                "score",
                "--observations", str(data / "observations.csv"),
                "--wards", str(data / "wards.csv"),
                "--events", str(data / "events.csv"),
                "--out", str(results),
                "--store", str(store),
            ]
        )  # fmt: skip
        if code not in (0, 1):  # 1: scored, with the generator's deliberately messy rows rejected
            raise CliError("scoring the synthetic trust failed")
    else:
        print(f"using the scored trust already in {data} (--fresh to regenerate)")
    if args.no_serve:
        print(f"demo trust scored: results in {results}, triage store {store}")
        return 0
    return cli_main(
        [
            "dashboard",
            "--data",
            str(data),
            "--results",
            str(results),
            "--store",
            str(store),
            "--port",
            str(args.port),
        ]
    )
