"""The robustness grid: the benchmark repeated over generator settings (one factor at a time).

Each cell is a small synthetic trust (:class:`GridSettings`: 100 wards x 156 weeks by default, its
own seed) generated with one generator setting moved away from the default, scored with the given
configuration and evaluated against its truth (oracle with the true rates of ``latent.parquet``).
One-factor-at-a-time around the default: the default cell once, then each axis's levels with every
other setting at its default. The axes follow issue 26:

* ``indicators`` moving per episode (2, 5, 8, 12; domains 2, 2, 3, 4) and ``domains`` (2, 3, 4 with
  two indicators each): designed episodes (:class:`synthetic.ClosedCultureSettings` ``n_domains``,
  ``n_indicators``);
* ``ramp`` weeks (1, 8, 26), ``effect`` (x0.5 and x0.75 of the log-effect), ``dispersion`` (x0.5,
  x2 of NB ``1 / size`` and beta-binomial ``rho``), ``rates`` (count base rates x0.5),
  ``small_wards`` (4-10 beds), ``wards_per_provider`` (3, 20), ``share_affected`` (30% and 60% of a
  provider's wards in provider_deterioration), ``history`` before onset (13, 52, 104 weeks),
  ``workforce_cadence`` (the weekly workforce returns, agency and bank shifts, written as monthly
  sums: :class:`synthetic.TrustSpec` ``workforce_cadence``; scoring infers each indicator's cadence
  from its rows, so they are scored as monthly series; weekly is the default cell).

Per cell: culture episodes detected at ``concern`` within the horizon, median delay, the same for
the oracle and the ratio of medians, false concern alerts per ward-year, ward-level decoys
escalated (acute patient, staffing crisis), wards of broad decoys escalated and broad decoy groups
with a provider alert, and provider_deterioration wards that reached concern. The headline is the
median cell and the worst cell (lowest detection share).
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import polars as pl

from engine.config import Config
from engine.evaluate.settings import EvaluationSettings

#: Scenario counts of a grid cell's trust (100 wards: the benchmark's mix, scaled).
GRID_SCENARIOS = (
    "closed_culture=10,concealment=3,acute_patient=5,staffing_crisis=3,"
    "winter_pressure=1,definition_change=3,reporting_migration=3,provider_deterioration=1"
)
WARD_DECOY_KINDS: tuple[str, ...] = ("acute_patient", "staffing_crisis")


@dataclass(frozen=True)
class GridSettings:
    """Size of each cell's trust, its seed and the parallel jobs."""

    wards: int = field(default=100, metadata={"doc": "wards in each cell's synthetic trust"})
    weeks: int = field(default=156, metadata={"doc": "weeks simulated (more when history needs it)"})
    seed: int = field(default=11, metadata={"doc": "generator seed of every cell"})
    scenarios: str = field(default=GRID_SCENARIOS, metadata={"doc": "scenario counts of each cell"})
    jobs: int = field(default=2, metadata={"doc": "cells run in parallel processes"})


def scaled_scenarios(wards: int, spec: str = GRID_SCENARIOS) -> str:
    """Grid scenario counts scaled from 100 wards to ``wards`` (half up; at least 1 of each kind;
    winter pressure, trust-wide, stays at its count)."""
    from synthetic.spec import TRUST_WIDE_KINDS, format_scenarios, parse_scenarios

    counts = parse_scenarios(spec)
    return format_scenarios(
        {
            k: c if k in TRUST_WIDE_KINDS or c == 0 else max(1, int(c * wards / 100 + 0.5))
            for k, c in counts.items()
        }
    )


def _closed_culture(spec: Any, **kw: Any) -> Any:
    cc = dataclasses.replace(spec.scenarios.closed_culture, **kw)
    return dataclasses.replace(spec, scenarios=dataclasses.replace(spec.scenarios, closed_culture=cc))


def _share(spec: Any, share: float) -> Any:
    pd = dataclasses.replace(spec.scenarios.provider_deterioration, ward_share=share)
    return dataclasses.replace(spec, scenarios=dataclasses.replace(spec.scenarios, provider_deterioration=pd))


def _providers(spec: Any, wards: int) -> Any:
    """``wards`` per provider, with at least 10 providers (so the provider-wide scenarios fit)."""
    return dataclasses.replace(spec, wards_per_provider=wards, n_wards=max(spec.n_wards, 10 * wards))


def _history(spec: Any, weeks: int) -> Any:
    sc = dataclasses.replace(spec.scenarios, min_onset_week=weeks, onset_window_weeks=8)
    mess = dataclasses.replace(spec.mess, late_joiner_share=0.0)
    return dataclasses.replace(spec, scenarios=sc, mess=mess, n_weeks=max(spec.n_weeks, weeks + 70))


#: How a cell changes the default trust: ``Cell.target`` -> function(spec, **settings).
_CHANGES: dict[str, Callable[..., Any]] = {
    "closed_culture": _closed_culture,
    "trust": lambda spec, **kw: dataclasses.replace(spec, **kw),
    "share": _share,
    "providers": _providers,
    "history": _history,
}


@dataclass(frozen=True)
class Cell:
    """One grid cell: an axis, its level (as shown) and the change to the default trust (``target``
    names the change, ``settings`` its keyword arguments; plain data, so cells pickle to workers)."""

    axis: str
    level: str
    target: str = ""
    settings: tuple[tuple[str, Any], ...] = ()

    def apply(self, spec: Any) -> Any:
        """The changed :class:`synthetic.TrustSpec` (``spec`` itself for the default cell)."""
        return _CHANGES[self.target](spec, **dict(self.settings)) if self.target else spec


def _cell(axis: str, level: str, target: str, **kw: Any) -> Cell:
    return Cell(axis, level, target, tuple(sorted(kw.items())))


def default_cells() -> list[Cell]:
    """The one-factor-at-a-time grid of issue 26 (see the module docstring)."""
    ind = [(2, 2), (5, 2), (8, 3), (12, 4)]  # 4 over 2 domains is the domains = 2 cell
    cc = "closed_culture"
    return [
        Cell("default", "default"),
        *(_cell("indicators", f"{i} ({d} domains)", cc, n_indicators=i, n_domains=d) for i, d in ind),
        *(
            _cell("domains", f"{d} ({2 * d} indicators)", cc, n_domains=d, n_indicators=2 * d)
            for d in (2, 3, 4)
        ),
        *(_cell("ramp_weeks", str(r), cc, ramp_weeks=(r, r)) for r in (1, 8, 26)),
        *(_cell("effect", f"x{e}", cc, effect_scale=e) for e in (0.5, 0.75)),
        *(_cell("dispersion", f"x{d}", "trust", dispersion_scale=d) for d in (0.5, 2.0)),
        _cell("rates", "x0.5", "trust", rate_scale=0.5),
        _cell("small_wards", "4-10 beds", "trust", beds=(4, 10)),
        *(_cell("wards_per_provider", str(w), "providers", wards=w) for w in (3, 20)),
        *(_cell("share_affected", f"{s:.0%}", "share", share=s) for s in (0.3, 0.6)),
        *(_cell("history_weeks", str(h), "history", weeks=h) for h in (13, 52, 104)),
        _cell("workforce_cadence", "monthly", "trust", workforce_cadence="monthly"),
    ]


def tiny_cells() -> list[Cell]:
    """Two cells (default and a short ramp) for tests and smoke runs."""
    return [Cell("default", "default"), _cell("ramp_weeks", "1", "closed_culture", ramp_weeks=(1, 1))]


GRIDS: dict[str, Callable[[], list[Cell]]] = {"default": default_cells, "tiny": tiny_cells}


def cell_name(cell: Cell) -> str:
    """Folder name of a cell."""
    text = f"{cell.axis}-{cell.level}".lower()
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)


def cell_spec(cell: Cell, g: GridSettings) -> Any:
    """The cell's :class:`synthetic.TrustSpec`."""
    from synthetic import TrustSpec
    from synthetic.spec import parse_scenarios

    base = TrustSpec()
    spec = TrustSpec(
        n_wards=g.wards,
        n_weeks=g.weeks,
        scenarios=dataclasses.replace(base.scenarios, counts=MappingProxyType(parse_scenarios(g.scenarios))),
    )
    return cell.apply(spec)


def run_cell(
    cell: Cell, g: GridSettings, root: Path, config: Config, st: EvaluationSettings
) -> dict[str, Any]:
    """Generate, score and evaluate one cell into ``root / cell_name(cell)``; its row."""
    from engine.evaluate.benchmark import score_folder
    from engine.evaluate.run import evaluate
    from engine.evaluate.scenarios import kind_table, provider_decoy_table
    from synthetic import ScenarioError, generate, write_trust

    start = time.perf_counter()
    folder = root / cell_name(cell)
    data, results = folder / "data", folder / "results"
    spec = cell_spec(cell, g)
    key = json.dumps(
        {"spec": repr(spec), "seed": g.seed, "config": config.digest(), "evaluation": repr(st)},
        sort_keys=True,
    )
    done = folder / "row.json"
    if done.exists():  # resume: the same cell, configuration and evaluation settings were run before
        saved = json.loads(done.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return saved["row"]
    head = {"axis": cell.axis, "level": cell.level}
    try:
        trust = generate(spec, seed=g.seed)
    except ScenarioError as exc:  # the cell's trust cannot hold its scenarios: reported, not fatal
        return {**head, "error": str(exc)}
    write_trust(trust, data, "csv", latent=True)
    score_folder(data, results, config)
    ev = evaluate(data / "truth.csv", results, st)
    row = cell_row(
        ev, kind_table(ev.episodes, st.horizon_weeks), provider_decoy_table(data / "truth.csv", results, st)
    )
    out = {**head, **row, "error": "", "seconds": round(time.perf_counter() - start, 1)}
    done.write_text(json.dumps({"key": key, "row": out}), encoding="utf-8")
    return out


def _get(summary: pl.DataFrame, method: str, col: str) -> float:
    part = summary.filter(pl.col("method") == method)
    if part.height == 0 or part[col][0] is None:
        return math.nan
    return float(part[col][0])


def cell_row(ev: Any, kinds: pl.DataFrame, broad: pl.DataFrame) -> dict[str, Any]:
    """The grid columns of one evaluated cell."""
    s = ev.summary
    ww_median = _get(s, "wardwatch", "delay_median")
    or_median = _get(s, "oracle", "delay_median")
    dec = ev.decoys.filter((pl.col("method") == "wardwatch") & pl.col("kind").is_in(list(WARD_DECOY_KINDS)))
    n_dec = int(dec["decoys"].sum()) if dec.height else 0
    pd_rows = kinds.filter((pl.col("kind") == "provider_deterioration") & (pl.col("method") == "wardwatch"))
    return {
        "episodes": int(_get(s, "wardwatch", "episodes")),
        "detected": _get(s, "wardwatch", "detection_rate"),
        "delay_median": ww_median,
        "oracle_detected": _get(s, "oracle", "detection_rate"),
        "oracle_delay_median": or_median,
        "delay_ratio": ww_median / or_median if or_median > 0 and math.isfinite(or_median) else math.nan,
        "false_concern_per_ward_year": _get(s, "wardwatch", "false_alerts_per_ward_year"),
        "ward_decoys_escalated": (int(dec["escalated"].sum()) / n_dec) if n_dec else math.nan,
        "broad_decoy_wards_escalated": (
            int(broad["wards_escalated"].sum()) / int(broad["wards"].sum()) if broad.height else math.nan
        ),
        "broad_decoys_with_provider_alert": float(cast(float, broad["provider_alert"].mean()))
        if broad.height
        else math.nan,
        "provider_deterioration_reached": (
            pd_rows["reached"][0] / pd_rows["episodes"][0] if pd_rows.height else math.nan
        ),
    }


def _worker(args: tuple[Cell, GridSettings, Path, dict, EvaluationSettings]) -> dict[str, Any]:
    from engine.config import config_from_mapping

    cell, g, root, cfg, st = args
    return run_cell(cell, g, root, config_from_mapping(cfg, source="grid"), st)


def run_grid(
    out: str | Path,
    config: Config | None = None,
    grid: str = "default",
    settings: GridSettings | None = None,
    evaluation: EvaluationSettings | None = None,
) -> tuple[pl.DataFrame, Path]:
    """Run every cell of ``grid`` into ``out`` (``grid.csv``, ``grid.md``); the table and the md path."""
    g = settings or GridSettings()
    st = evaluation or EvaluationSettings(bootstrap_replicates=0)
    cfg = (config or Config()).to_dict()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    cells = GRIDS[grid]()
    args = [(c, g, root, cfg, st) for c in cells]
    start = time.perf_counter()
    if g.jobs > 1:
        # spawned, not forked: a fork of a process whose polars / numba thread pools are running
        # can deadlock in the child
        ctx = multiprocessing.get_context("spawn")
        workers = min(g.jobs, os.cpu_count() or 1, len(cells))
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            rows = list(pool.map(_worker, args))
    else:
        rows = [_worker(a) for a in args]
    wall = time.perf_counter() - start
    table = pl.DataFrame(rows, infer_schema_length=None)
    failed = table.filter(pl.col("error") != "") if "error" in table.columns else table.clear()
    table = table.filter(pl.col("error") == "") if "error" in table.columns else table
    table.write_csv(root / "grid.csv")
    md = root / "grid.md"
    text = grid_markdown(table, g, st.horizon_weeks, wall)
    if failed.height:
        text += (
            "\nCells that could not be generated:\n\n"
            + "\n".join(f"* {r['axis']} = {r['level']}: {r['error']}" for r in failed.iter_rows(named=True))
            + "\n"
        )
    md.write_text(text, encoding="utf-8")
    return table, md


def headline_cells(table: pl.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """The median cell (median detection share; ties broken by the longer delay) and the worst
    cell (lowest detection share, then longest delay)."""
    ranked = table.with_columns(pl.col("delay_median").fill_nan(math.inf)).sort(
        ["detected", "delay_median"], descending=[False, True]
    )
    median = ranked.row((ranked.height - 1) // 2, named=True)
    return median, ranked.row(0, named=True)


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _wk(x: float | None, horizon: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f">{horizon}" if math.isinf(x) else f"{x:.0f}"


def _ratio(r: dict[str, Any], horizon: int) -> str:
    """Median delay / the oracle's; a lower bound (``>``) when wardwatch's median is past the horizon."""
    ww, om = r["delay_median"], r["oracle_delay_median"]
    if om is None or not math.isfinite(om) or om <= 0:
        return "-"
    if ww is None or not math.isfinite(ww):
        return f">{horizon / om:.2f}"
    return f"{ww / om:.2f}"


def grid_markdown(table: pl.DataFrame, g: GridSettings, horizon: int, wall: float) -> str:
    """The grid as Markdown: headline (median and worst cell) and every cell."""
    head = (
        f"| cell | detected <{horizon} wk | median delay | oracle detected | oracle median | ratio to oracle "
        "| false concern / ward-yr | ward decoys escalated | broad-decoy wards escalated "
        "| broad decoys with provider alert | provider_deterioration wards at concern |"
    )
    sep = "|" + "---|" * 11

    def line(r: dict[str, Any], label: str) -> str:
        return (
            f"| {label} | {_pct(r['detected'])} ({r['episodes']}) | {_wk(r['delay_median'], horizon)} "
            f"| {_pct(r['oracle_detected'])} | {_wk(r['oracle_delay_median'], horizon)} | {_ratio(r, horizon)} "
            f"| {r['false_concern_per_ward_year']:.3f} | {_pct(r['ward_decoys_escalated'])} "
            f"| {_pct(r['broad_decoy_wards_escalated'])} | {_pct(r['broad_decoys_with_provider_alert'])} "
            f"| {_pct(r['provider_deterioration_reached'])} |"
        )

    median, worst = headline_cells(table)
    lines = [
        f"Robustness grid: {table.height} cells, one factor at a time around the default; each cell a "
        f"{g.wards}-ward trust over {g.weeks} weeks (seed {g.seed}, scenarios `{g.scenarios}`); "
        f"{g.jobs} parallel jobs, {wall:.0f} s wall time for this run, cells' own times summing to "
        f"{float(table['seconds'].sum()) if 'seconds' in table.columns else 0.0:.0f} s (a cell run before with the same "
        "settings is resumed from its row.json).",
        "",
        head,
        sep,
        line(median, f"**median cell**: {median['axis']} = {median['level']}"),
        line(worst, f"**worst cell**: {worst['axis']} = {worst['level']}"),
        "",
        head,
        sep,
    ]
    lines += [line(r, f"{r['axis']} = {r['level']}") for r in table.iter_rows(named=True)]
    return "\n".join(lines) + "\n"
