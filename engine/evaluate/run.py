"""Evaluate a results folder against truth: per-episode detections, summary by method, decoys.

read truth + results -> ward grid -> method conditions -> per-method outcomes (metrics)
-> oracle calibrated to each method's false alerts -> tables with bootstrap intervals
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.config import Config, config_from_mapping
from engine.contract.levels import Level
from engine.contract.truth import EPISODE_COLUMNS
from engine.evaluate.grid import WardGrid, grid_from_status, window_end, windows_mask
from engine.evaluate.methods import level_condition, series_conditions
from engine.evaluate.metrics import (
    Outcome,
    bootstrap_index,
    censor,
    cluster_bootstrap_share,
    outcome,
    percentile_ci,
    quantile,
    rate_per_year,
)
from engine.evaluate.oracle import OracleResult, run_oracle
from engine.evaluate.settings import EvaluationSettings
from engine.evaluate.truth import numeric_effects, read_truth

#: Methods in report order (those without data are skipped).
METHODS: tuple[str, ...] = (
    "wardwatch",
    "wardwatch_watch",
    "wardwatch_urgent",
    "cusum",
    "ewma",
    "silence",
    "indicator_alerts",
    "mdc",
    "oracle",
)
METHOD_LABELS: dict[str, str] = {
    "wardwatch": "wardwatch (concern)",
    "wardwatch_watch": "wardwatch (watch)",
    "wardwatch_urgent": "wardwatch (urgent)",
    "cusum": "CUSUM alone",
    "ewma": "EWMA alone",
    "silence": "silence alone",
    "indicator_alerts": "any indicator alert",
    "mdc": "Making Data Count",
    "oracle": "oracle (true effects)",
}


#: The generator's true in-control rates, read from beside ``truth.csv`` when present (the oracle's).
LATENT_FILE = "latent.parquet"


class EvaluationError(ValueError):
    """The results folder or truth cannot be evaluated (message says why)."""


@dataclass(frozen=True)
class ResultsFolder:
    """What evaluation reads from a ``wardwatch score`` results folder."""

    path: Path
    ward_status: pl.DataFrame
    series: pl.DataFrame | None
    config: Config
    run: dict[str, Any]


def read_run(path: str | Path) -> tuple[dict[str, Any], Config]:
    """A results folder's ``run.json`` and the scoring configuration in it (``({}, defaults)`` when the
    folder has no ``run.json``)."""
    p = Path(path)
    run: dict[str, Any] = {}
    if (p / "run.json").exists():
        run = json.loads((p / "run.json").read_text(encoding="utf-8"))
    return run, config_from_mapping(run.get("config", {}), source=str(p / "run.json"))


def read_results(path: str | Path) -> ResultsFolder:
    """Read ``ward_status.csv``, ``run.json`` (configuration) and, if present, ``series.parquet``."""
    p = Path(path)
    status_path = p / "ward_status.csv"
    if not status_path.exists():
        raise EvaluationError(f"{p}: no ward_status.csv (is this a `wardwatch score --out` folder?)")
    status = pl.read_csv(status_path, columns=["ward_id", "period", "level"], infer_schema=False)
    run, config = read_run(p)
    series = pl.read_parquet(p / "series.parquet") if (p / "series.parquet").exists() else None
    return ResultsFolder(p, status, series, config, run)


@dataclass(frozen=True)
class Evaluation:
    """Everything an evaluation produces (tables as written to CSV)."""

    episodes: pl.DataFrame
    summary: pl.DataFrame
    decoys: pl.DataFrame
    settings: EvaluationSettings
    curves: pl.DataFrame


def _conditions(res: ResultsFolder, grid: WardGrid) -> dict[str, np.ndarray]:
    cond = {
        "wardwatch": level_condition(grid, Level.CONCERN.rank),
        "wardwatch_watch": level_condition(grid, Level.WATCH.rank),
        "wardwatch_urgent": level_condition(grid, Level.URGENT.rank),
    }
    if res.series is not None:
        more = series_conditions(
            grid, res.series, res.config.build_catalogue(), res.config.combination.silence_level
        )
        cond.update(more)
    return cond


def _episode_table(truth: pl.DataFrame, grid: WardGrid, settings: EvaluationSettings) -> pl.DataFrame:
    ep = truth.filter(pl.col("role") == "episode")
    w = grid.ward_index(ep["ward_id"].to_numpy())
    t0 = grid.week_index(ep["onset"].to_numpy().astype("datetime64[D]"))
    t_count = grid.shape[1]
    cum = np.concatenate([np.zeros((grid.shape[0], 1), np.int64), np.cumsum(grid.monitored, axis=1)], axis=1)
    history = np.where(w >= 0, cum[np.maximum(w, 0), np.clip(t0, 0, t_count)], 0)
    followup = np.where(w >= 0, t_count - np.maximum(t0, 0), 0)
    evaluable = (w >= 0) & (t0 < t_count) & (history >= settings.min_history_weeks)
    return ep.with_columns(
        pl.Series("w", w),
        pl.Series("onset_t", t0),
        pl.Series("history_weeks", history),
        pl.Series("followup_weeks", followup),
        pl.Series("evaluable", evaluable),
    )


def _decoy_table(truth: pl.DataFrame, grid: WardGrid, settings: EvaluationSettings) -> pl.DataFrame:
    dec = truth.filter(pl.col("role") == "decoy")
    last = grid.periods[-1].astype("datetime64[D]").item()
    ends = window_end(dec, last, settings)
    return dec.with_columns(
        ends.alias("window_end"),
        pl.Series("w", grid.ward_index(dec["ward_id"].to_numpy())),
        pl.Series("t0", grid.week_index(dec["onset"].to_numpy().astype("datetime64[D]"))),
        pl.Series("t1", grid.week_index(ends.to_numpy().astype("datetime64[D]"))),
    )


def evaluate(
    truth_path: str | Path,
    results_path: str | Path,
    settings: EvaluationSettings | None = None,
) -> Evaluation:
    """Evaluate one results folder against ``truth.csv`` (rules in :mod:`engine.evaluate.metrics`)."""
    st = settings or EvaluationSettings()
    truth = read_truth(truth_path)
    res = read_results(results_path)
    try:
        grid = grid_from_status(res.ward_status)
    except ValueError as exc:
        raise EvaluationError(f"{res.path}: {exc}") from None
    close_after = res.config.combination.close_after
    outside = grid.monitored & ~windows_mask(grid, truth, st)
    episodes = _episode_table(truth, grid, st)
    decoys = _decoy_table(truth, grid, st)
    ev_mask = episodes["evaluable"].to_numpy()
    ew, et = episodes["w"].to_numpy(), episodes["onset_t"].to_numpy()
    dw, d0, d1 = decoys["w"].to_numpy(), decoys["t0"].to_numpy(), decoys["t1"].to_numpy()

    outcomes: dict[str, Outcome] = {
        name: outcome(cond, outside, close_after, (ew, et), (dw, d0, d1))
        for name, cond in _conditions(res, grid).items()
    }

    oracle: OracleResult | None = None
    methods = [m for m in METHODS if m in outcomes]
    if st.oracle and res.series is not None and "expected_rate" in res.series.columns and ev_mask.any():
        effects = [numeric_effects(e) for e in episodes["effects"].to_list()]
        targets = [int(outcomes[m].false_alerts.sum()) for m in methods]
        ramps = episodes.select(
            ((pl.col("full_effect") - pl.col("onset")).dt.total_days() // 7 + 1).clip(1)
        ).to_series()
        latent_path = Path(truth_path).with_name(LATENT_FILE)
        oracle = run_oracle(
            res.series,
            grid,
            res.config.build_catalogue(),
            np.where(ev_mask, ew, -1),
            et,
            effects,
            outside,
            targets,
            close_after,
            ramps=ramps.to_list(),
            latent=pl.read_parquet(latent_path) if latent_path.exists() else None,
        )
    ep_out = _episode_output(episodes, grid, outcomes, oracle, st)
    summary = _summary(outcomes, oracle, methods, ev_mask, st)
    decoy_out = _decoy_summary(decoys, outcomes, methods, st)
    curves = _curves(outcomes, oracle, methods, ev_mask, st)
    return Evaluation(ep_out, summary, decoy_out, st, curves)


def _iso_week(grid: WardGrid, onset_t: np.ndarray, delay: np.ndarray) -> list[str | None]:
    out: list[str | None] = []
    for t0, d in zip(onset_t, delay, strict=True):
        out.append(None if not np.isfinite(d) else str(grid.periods[0] + 7 * int(t0 + d)))
    return out


def _delay_col(d: np.ndarray) -> pl.Series:
    return pl.Series(np.where(np.isfinite(d), d, np.nan)).fill_nan(None).cast(pl.Int64)


def _episode_output(
    episodes: pl.DataFrame,
    grid: WardGrid,
    outcomes: dict[str, Outcome],
    oracle: OracleResult | None,
    st: EvaluationSettings,
) -> pl.DataFrame:
    et = episodes["onset_t"].to_numpy()
    ew = episodes["w"].to_numpy()
    before = np.zeros(len(ew), dtype=bool)
    ok = (ew >= 0) & (et >= 1) & (et <= grid.shape[1])
    before[ok] = grid.level[ew[ok], et[ok] - 1] >= Level.CONCERN.rank
    cols: dict[str, Any] = {"already_concern_before_onset": before}
    for lvl, name in (("watch", "wardwatch_watch"), ("concern", "wardwatch"), ("urgent", "wardwatch_urgent")):
        d = outcomes[name].delay
        cols[f"{lvl}_week"] = pl.Series(_iso_week(grid, et, d), dtype=pl.String).str.to_date("%Y-%m-%d")
        cols[f"{lvl}_delay_weeks"] = _delay_col(d)
        cols[f"{lvl}_detected"] = d < st.horizon_weeks
    for name, out in outcomes.items():
        if not name.startswith("wardwatch"):
            cols[f"delay_{name}"] = _delay_col(out.delay)
    if oracle is not None:
        cols["delay_oracle"] = _delay_col(oracle.delay[:, 0])
        cols["oracle_threshold"] = oracle.threshold[:, 0]
        cols["oracle_indicators"] = [";".join(u) for u in oracle.indicators]
    base = episodes.select(
        *EPISODE_COLUMNS,
        "evaluable",
        "history_weeks",
        "followup_weeks",
    )
    return base.with_columns(
        **{k: (v if isinstance(v, pl.Series) else pl.Series(k, v)) for k, v in cols.items()}
    )


def _delay_stats(delay: np.ndarray, st: EvaluationSettings, rng: np.random.Generator) -> dict[str, float]:
    d = censor(delay, st.horizon_weeks)
    q25, q50, q75 = (quantile(d, q) for q in (0.25, 0.5, 0.75)) if d.size else (np.nan,) * 3
    det = np.isfinite(d)
    out = {
        "episodes": float(d.size),
        "detected": float(det.sum()),
        "detection_rate": float(det.mean()) if d.size else np.nan,
        "delay_q25": float(q25),
        "delay_median": float(q50),
        "delay_q75": float(q75),
    }
    idx = bootstrap_index(rng, d.size, st.bootstrap_replicates)
    if d.size and st.bootstrap_replicates:
        boot = d[idx]
        out["detection_rate_lo"], out["detection_rate_hi"] = percentile_ci(
            np.isfinite(boot).mean(axis=1), st.ci_level
        )
        out["delay_median_lo"], out["delay_median_hi"] = percentile_ci(
            quantile(boot, 0.5, axis=1), st.ci_level
        )
    else:
        out.update(
            detection_rate_lo=np.nan, detection_rate_hi=np.nan, delay_median_lo=np.nan, delay_median_hi=np.nan
        )
    return out


def _fa_stats(
    counts: np.ndarray, years: np.ndarray, st: EvaluationSettings, rng: np.random.Generator
) -> dict[str, float]:
    out = {
        "false_alerts": float(counts.sum()),
        "ward_years": float(years.sum()),
        "false_alerts_per_ward_year": rate_per_year(counts, years),
    }
    idx = bootstrap_index(rng, len(counts), st.bootstrap_replicates)
    if len(counts) and st.bootstrap_replicates:
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = counts[idx].sum(axis=1) / years[idx].sum(axis=1)
        out["fa_lo"], out["fa_hi"] = percentile_ci(boot, st.ci_level)
    else:
        out["fa_lo"], out["fa_hi"] = np.nan, np.nan
    return out


def _ratio(a: float, b: float) -> float:
    if not np.isfinite(b) or b <= 0 or np.isnan(a):
        return np.nan
    return a / b


def _summary(
    outcomes: dict[str, Outcome],
    oracle: OracleResult | None,
    methods: list[str],
    ev_mask: np.ndarray,
    st: EvaluationSettings,
) -> pl.DataFrame:
    rows = []
    oracle_median = np.nan
    oracle_same: dict[str, float] = {}
    if oracle is not None:
        for k, m in enumerate(methods):
            oracle_same[m] = float(quantile(censor(oracle.delay[ev_mask, k], st.horizon_weeks), 0.5))
        oracle_median = oracle_same[methods[0]]
    for i, m in enumerate(methods):
        out = outcomes[m]
        rng_e = np.random.default_rng([st.seed, 1, i])
        rng_w = np.random.default_rng([st.seed, 2, i])
        row: dict[str, Any] = {"method": m, "label": METHOD_LABELS[m]}
        row.update(_delay_stats(out.delay[ev_mask], st, rng_e))
        row.update(_fa_stats(out.false_alerts, out.ward_years, st, rng_w))
        row["flagged_share"] = out.flagged_share
        row["decoy_escalation_rate"] = (
            float(out.decoy_escalated.mean()) if out.decoy_escalated.size else np.nan
        )
        row["delay_ratio_to_oracle"] = _ratio(row["delay_median"], oracle_median)
        row["oracle_median_same_fa"] = oracle_same.get(m, np.nan)
        row["delay_ratio_same_fa"] = _ratio(row["delay_median"], oracle_same.get(m, np.nan))
        rows.append(row)
    if oracle is not None:
        row = {"method": "oracle", "label": METHOD_LABELS["oracle"]}
        row.update(
            _delay_stats(oracle.delay[ev_mask, 0], st, np.random.default_rng([st.seed, 1, len(methods)]))
        )
        years = outcomes[methods[0]].ward_years.sum()
        used = np.isfinite(oracle.threshold[ev_mask, 0])
        fa = float(oracle.false_alerts[ev_mask, 0][used].mean()) if used.any() else np.nan
        row.update(
            false_alerts=fa,
            ward_years=float(years),
            false_alerts_per_ward_year=fa / years if years > 0 else np.nan,
            fa_lo=np.nan,
            fa_hi=np.nan,
            flagged_share=np.nan,
            decoy_escalation_rate=np.nan,
            delay_ratio_to_oracle=1.0 if np.isfinite(oracle_median) and oracle_median > 0 else np.nan,
            oracle_median_same_fa=oracle_median,
            delay_ratio_same_fa=1.0 if np.isfinite(oracle_median) and oracle_median > 0 else np.nan,
        )
        rows.append(row)
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


def _decoy_summary(
    decoys: pl.DataFrame, outcomes: dict[str, Outcome], methods: list[str], st: EvaluationSettings
) -> pl.DataFrame:
    rows = []
    kinds = sorted(set(decoys["kind"].to_list()))
    groups = decoys["group_id"].to_numpy().astype(str)
    kind_arr = decoys["kind"].to_numpy().astype(str)
    for i, m in enumerate(methods):
        esc = outcomes[m].decoy_escalated
        for j, kind in enumerate(kinds):
            sel = kind_arr == kind
            boot = cluster_bootstrap_share(
                esc[sel], groups[sel], np.random.default_rng([st.seed, 3, i, j]), st.bootstrap_replicates
            )
            lo, hi = percentile_ci(boot, st.ci_level) if boot.size else (np.nan, np.nan)
            rows.append(
                {
                    "method": m,
                    "kind": kind,
                    "decoys": int(sel.sum()),
                    "groups": len(set(groups[sel])),
                    "escalated": int(esc[sel].sum()),
                    "escalation_rate": float(esc[sel].mean()),
                    "rate_lo": lo,
                    "rate_hi": hi,
                }
            )
    schema = {
        "method": pl.String,
        "kind": pl.String,
        "decoys": pl.Int64,
        "groups": pl.Int64,
        "escalated": pl.Int64,
        "escalation_rate": pl.Float64,
        "rate_lo": pl.Float64,
        "rate_hi": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _curves(
    outcomes: dict[str, Outcome],
    oracle: OracleResult | None,
    methods: list[str],
    ev_mask: np.ndarray,
    st: EvaluationSettings,
) -> pl.DataFrame:
    """Share of episodes detected by each week since onset (0 .. 2 x horizon), per method."""
    weeks = np.arange(2 * st.horizon_weeks + 1)
    parts = []
    series = {m: outcomes[m].delay[ev_mask] for m in methods}
    if oracle is not None:
        series["oracle"] = oracle.delay[ev_mask, 0]
    for m, d in series.items():
        share = (d[None, :] <= weeks[:, None]).mean(axis=1) if d.size else np.full(len(weeks), np.nan)
        parts.append(
            pl.DataFrame({"method": m, "label": METHOD_LABELS[m], "week": weeks, "detected_share": share})
        )
    return pl.concat(parts)
