"""The default benchmark: one synthetic trust, scored and evaluated against its truth.

``wardwatch evaluate --benchmark DIR`` = ``wardwatch synth`` (300 wards, 156 weeks, seed 7, the
scenario counts below) + ``wardwatch score`` (default or given configuration) + ``wardwatch
evaluate``, writing ``DIR/data`` (with ``latent.parquet``, the true rates the oracle uses),
``DIR/results``, ``DIR/evaluation`` (plus ``by_kind.csv`` and ``provider_decoys.csv``, see
:mod:`engine.evaluate.scenarios`) and ``DIR/benchmark.md`` (the Markdown tables for the README).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import polars as pl

from engine.config import Config
from engine.evaluate.report import provenance, summary_table, write_evaluation
from engine.evaluate.run import Evaluation, evaluate
from engine.evaluate.scenarios import kind_table, provider_decoy_table
from engine.evaluate.settings import EvaluationSettings

#: Scenario counts of the benchmark trust (the 40-ward demo defaults scaled to 300 wards).
BENCHMARK_SCENARIOS = (
    "closed_culture=23,concealment=8,acute_patient=15,staffing_crisis=8,"
    "winter_pressure=1,definition_change=8,reporting_migration=8,provider_deterioration=3"
)


@dataclass(frozen=True)
class BenchmarkSettings:
    """The benchmark trust (``synthetic.TrustSpec`` fields and seed)."""

    wards: int = dataclasses.field(default=300, metadata={"doc": "wards in the synthetic trust"})
    weeks: int = dataclasses.field(default=156, metadata={"doc": "weeks simulated"})
    seed: int = dataclasses.field(default=7, metadata={"doc": "generator seed"})
    scenarios: str = dataclasses.field(default=BENCHMARK_SCENARIOS, metadata={"doc": "scenario counts"})


def synth_command(b: BenchmarkSettings, out: str) -> str:
    """The equivalent ``wardwatch synth`` command line."""
    return f'wardwatch synth --wards {b.wards} --weeks {b.weeks} --seed {b.seed} --scenarios "{b.scenarios}" --out {out}'


def make_data(b: BenchmarkSettings, out: Path) -> dict[str, Path]:
    """Generate and write the benchmark trust."""
    from synthetic import TrustSpec, generate, write_trust
    from synthetic.spec import parse_scenarios

    base = TrustSpec()
    spec = TrustSpec(
        n_wards=b.wards,
        n_weeks=b.weeks,
        scenarios=dataclasses.replace(base.scenarios, counts=MappingProxyType(parse_scenarios(b.scenarios))),
    )
    return write_trust(generate(spec, seed=b.seed), out, "csv", latent=True)


def data_files(folder: Path) -> tuple[Path, Path, Path | None]:
    """A data folder's ``(observations, wards, events)`` files: observations.csv, else .parquet;
    events.csv only when present."""
    obs = folder / "observations.csv"
    if not obs.exists():
        obs = folder / "observations.parquet"
    events = folder / "events.csv"
    return obs, folder / "wards.csv", events if events.exists() else None


def score_folder(data: Path, results: Path, config: Config, config_path: str | None = None) -> None:
    """``wardwatch score`` on a data folder with observations/wards/events files."""
    from engine.io import load_dataset
    from engine.scoring.outputs import write_results
    from engine.scoring.run import score

    obs, wards, ev = data_files(data)
    load = load_dataset(obs, wards, ev, catalogue=config.build_catalogue())
    result = score(load, config)
    inputs = {"observations": obs, "wards": data / "wards.csv", "events": ev, "config": config_path}
    write_results(result, load, config, results, inputs)


def run_benchmark(
    out: str | Path,
    config: Config | None = None,
    config_path: str | None = None,
    settings: EvaluationSettings | None = None,
    bench: BenchmarkSettings | None = None,
    with_plots: bool = True,
) -> tuple[Evaluation, Path]:
    """Run the whole benchmark into ``out``; returns the evaluation and the path of benchmark.md."""
    b = bench or BenchmarkSettings()
    st = settings or EvaluationSettings()
    cfg = config or Config()
    root = Path(out)
    data, results, evaluation = root / "data", root / "results", root / "evaluation"
    if not (data / "truth.csv").exists():
        make_data(b, data)
    score_folder(data, results, cfg, config_path)
    ev = evaluate(data / "truth.csv", results, st)
    prov = provenance(data / "truth.csv", results, st)
    prov["benchmark"] = dataclasses.asdict(b)
    write_evaluation(ev, evaluation, prov, with_plots=with_plots)
    kinds = kind_table(ev.episodes, st.horizon_weeks)
    broad = provider_decoy_table(data / "truth.csv", results, st)
    kinds.write_csv(evaluation / "by_kind.csv")
    broad.write_csv(evaluation / "provider_decoys.csv")
    md = root / "benchmark.md"
    md.write_text(
        f"Synthetic trust: {b.wards} wards x {b.weeks} weeks, seed {b.seed}, scenarios `{b.scenarios}`; "
        f"horizon {st.horizon_weeks} weeks, {st.bootstrap_replicates} bootstrap replicates (seed {st.seed}).\n\n"
        + summary_table(ev.summary, st.horizon_weeks, markdown=True)
        + "\n\n"
        + scenario_tables(kinds, broad, st.horizon_weeks)
        + "\n",
        encoding="utf-8",
    )
    return ev, md


def _delay_text(d: float | None, horizon: int) -> str:
    return "-" if d is None else (f">{horizon}" if not math.isfinite(d) else f"{d:.0f}")


def scenario_tables(kinds: pl.DataFrame, broad: pl.DataFrame, horizon: int) -> str:
    """Markdown: culture episodes by kind (wardwatch vs oracle) and broad decoys by kind."""
    lines = [
        f"| episodes by kind | wardwatch detected <{horizon} wk | wardwatch reached concern | median delay "
        f"| oracle detected <{horizon} wk | oracle median delay |",
        "|---|---|---|---|---|---|",
    ]
    for kind in kinds["kind"].unique(maintain_order=True).to_list():
        ww = kinds.filter((pl.col("kind") == kind) & (pl.col("method") == "wardwatch")).row(0, named=True)
        orc = kinds.filter((pl.col("kind") == kind) & (pl.col("method") == "oracle"))
        o = orc.row(0, named=True) if orc.height else None
        n = ww["episodes"]
        lines.append(
            f"| {kind} ({n} wards, {ww['groups']} groups) | {ww['detected_in_horizon']}/{n} "
            f"| {ww['reached']}/{n} | {_delay_text(ww['delay_median'], horizon)} "
            + (
                f"| {o['detected_in_horizon']}/{n} | {_delay_text(o['delay_median'], horizon)} |"
                if o
                else "| - | - |"
            )
        )
    lines += [
        "",
        "| broad decoys by kind | groups | wards | wards escalated to concern (outside culture episodes) "
        "| expected by chance | wards also in a culture episode | groups with a provider alert |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in broad["kind"].unique(maintain_order=True).to_list():
        part = broad.filter(pl.col("kind") == kind)
        lines.append(
            f"| {kind} | {part.height} | {part['wards'].sum()} | {part['wards_escalated'].sum()} "
            f"| {part['expected_by_chance'].sum():.1f} | {part['wards_in_culture_episode'].sum()} "
            f"| {int(part['provider_alert'].sum())}/{part.height} |"
        )
    return "\n".join(lines)
