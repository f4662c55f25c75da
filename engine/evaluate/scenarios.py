"""Outcomes by scenario kind: culture episodes by kind, and provider-wide decoys.

* :func:`kind_table`: per culture kind (closed_culture, concealment, provider_deterioration), the
  episodes detected at ``concern`` within the horizon, the episodes that reached ``concern`` at all
  during their follow-up (an alert opening at or after onset, as in :mod:`engine.evaluate.metrics`)
  and the median delay (episodes not detected within the horizon count as ``> horizon``), for
  wardwatch and the oracle.
* :func:`provider_decoy_table`: per decoy group that covers several wards (a definition change or
  reporting migration across a provider, winter pressure across the trust): how many of its wards
  opened a ward alert at ``concern`` or above in the decoy's window, and whether a provider-scope
  alert (``alerts.csv``) for a provider of those wards opened in that window. An opening inside a
  culture episode's window on the same ward (onset to end + grace) is that episode's, not the
  decoy's, and is not counted; ``wards_in_culture_episode`` says how many of the group's wards had
  an episode window overlapping the decoy's. ``expected_by_chance`` is the number of openings the
  trust's background rate (concern openings outside every episode and decoy window, per ward-year)
  gives over the group's monitored ward-time in the window outside culture episodes: a decoy whose
  ``wards_escalated`` is near it escalates nothing beyond chance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from engine.contract.levels import Level
from engine.evaluate.grid import WEEKS_PER_YEAR, grid_from_status, window_end, windows_mask
from engine.evaluate.metrics import censor, false_alerts, openings, quantile, window_any
from engine.evaluate.run import read_run
from engine.evaluate.settings import EvaluationSettings
from engine.evaluate.truth import CULTURE_KINDS, read_truth

#: Decoy kinds that move many wards at once (a provider-wide or trust-wide common cause).
BROAD_DECOY_KINDS: tuple[str, ...] = ("definition_change", "reporting_migration", "winter_pressure")


def _median(delay: np.ndarray, horizon: int) -> float:
    return float(quantile(censor(delay, horizon), 0.5)) if delay.size else float("nan")


def kind_table(episodes: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """Rows per (kind, method) from an evaluation's ``episodes`` table (evaluable episodes only)."""
    ep = episodes.filter(pl.col("evaluable"))
    rows = []
    for kind in CULTURE_KINDS:
        part = ep.filter(pl.col("kind") == kind)
        if part.height == 0:
            continue
        cols = {"wardwatch": "concern_delay_weeks"}
        if "delay_oracle" in part.columns:
            cols["oracle"] = "delay_oracle"
        for method, col in cols.items():
            d = part[col].cast(pl.Float64).fill_null(np.inf).to_numpy()
            rows.append(
                {
                    "kind": kind,
                    "method": method,
                    "episodes": part.height,
                    "groups": part["group_id"].n_unique(),
                    "detected_in_horizon": int((d < horizon).sum()),
                    "reached": int(np.isfinite(d).sum()),
                    "delay_median": _median(d, horizon),
                }
            )
    schema = {
        "kind": pl.String,
        "method": pl.String,
        "episodes": pl.Int64,
        "groups": pl.Int64,
        "detected_in_horizon": pl.Int64,
        "reached": pl.Int64,
        "delay_median": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema).with_columns(pl.col("delay_median").fill_nan(None))


def provider_decoy_table(
    truth_path: str | Path, results_path: str | Path, settings: EvaluationSettings | None = None
) -> pl.DataFrame:
    """One row per broad decoy group (see the module docstring)."""
    st = settings or EvaluationSettings()
    all_truth = read_truth(truth_path)
    truth = all_truth.filter(pl.col("kind").is_in(list(BROAD_DECOY_KINDS)))
    res = Path(results_path)
    status = pl.read_csv(res / "ward_status.csv", columns=["ward_id", "period", "level"], infer_schema=False)
    grid = grid_from_status(status)
    if truth.height == 0:
        return pl.DataFrame(schema=PROVIDER_DECOY_SCHEMA)
    opened = openings(grid.level >= Level.CONCERN.rank, read_run(res)[1].combination.close_after)
    culture = windows_mask(grid, all_truth.filter(pl.col("kind").is_in(list(CULTURE_KINDS))), st)
    fa, years = false_alerts(opened, grid.monitored & ~windows_mask(grid, all_truth, st))
    background = float(fa.sum() / years.sum()) if years.sum() > 0 else 0.0
    last = grid.periods[-1].astype("datetime64[D]").item()
    truth = truth.with_columns(window_end(truth, last, st).alias("window_end"))
    alerts = _provider_alerts(res)
    ward_provider = _ward_provider(res, truth_path)
    rows = []
    for (gid,), part in truth.group_by("group_id", maintain_order=True):
        w = grid.ward_index(part["ward_id"].to_numpy())
        t0 = grid.week_index(part["onset"].to_numpy().astype("datetime64[D]"))
        t1 = grid.week_index(part["window_end"].to_numpy().astype("datetime64[D]"))
        in_window = _in_window(grid.level.shape, w, t0, t1)
        lo, hi = part["onset"].min(), part["window_end"].max()
        provs = {ward_provider.get(str(x), "") for x in part["ward_id"].to_list()}
        keys = set(str(part["indicators"][0]).split(";"))
        hit = alerts.filter(
            pl.col("provider").is_in(list(provs))
            & (pl.col("opened").str.to_date("%Y-%m-%d") >= lo)
            & (pl.col("opened").str.to_date("%Y-%m-%d") <= hi)
            & pl.col("indicator").is_in(list(keys))
        )
        counted = in_window & grid.monitored & ~culture
        rows.append(
            {
                "group_id": str(gid),
                "kind": str(part["kind"][0]),
                "indicators": str(part["indicators"][0]),
                "wards": part.height,
                "wards_escalated": int(window_any(opened & ~culture, w, t0, t1).sum()),
                "provider_alert": hit.height > 0,
                "wards_in_culture_episode": int(window_any(culture, w, t0, t1).sum()),
                "expected_by_chance": background * float(counted.sum()) / WEEKS_PER_YEAR,
            }
        )
    return pl.DataFrame(rows, schema=PROVIDER_DECOY_SCHEMA).sort("group_id")


#: Columns of ``provider_decoys.csv`` (:func:`provider_decoy_table`).
PROVIDER_DECOY_SCHEMA: dict[str, pl.DataType] = {
    "group_id": pl.String(),
    "kind": pl.String(),
    "indicators": pl.String(),
    "wards": pl.Int64(),
    "wards_escalated": pl.Int64(),
    "provider_alert": pl.Boolean(),
    "wards_in_culture_episode": pl.Int64(),
    "expected_by_chance": pl.Float64(),
}


def _provider_alerts(results: Path) -> pl.DataFrame:
    """Provider-scope rows of ``alerts.csv`` (empty without the file)."""
    path = results / "alerts.csv"
    if not path.exists():
        return pl.DataFrame(schema={"provider": pl.String, "opened": pl.String, "indicator": pl.String})
    return pl.read_csv(path, infer_schema=False).filter(pl.col("scope") == "provider")


def _in_window(shape: tuple[int, ...], ward: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """``(W, T)`` bool: ward-weeks inside any of the given ``[t0, t1]`` windows (ward -1 ignored)."""
    out = np.zeros(shape, dtype=bool)
    t = np.arange(shape[1])[None, :]
    ok = ward >= 0
    np.logical_or.at(out, ward[ok], (t >= t0[ok, None]) & (t <= t1[ok, None]))
    return out


def _ward_provider(results: Path, truth_path: str | Path) -> dict[str, str]:
    """Ward -> provider from ``wards.csv`` beside ``truth.csv`` (else the alerts' provider column)."""
    wards = Path(truth_path).with_name("wards.csv")
    if wards.exists():
        frame = pl.read_csv(wards, columns=["ward_id", "provider"], infer_schema=False)
        return dict(zip(frame["ward_id"].to_list(), frame["provider"].to_list(), strict=True))
    alerts = results / "alerts.csv"
    if not alerts.exists():
        return {}
    frame = pl.read_csv(alerts, columns=["ward_id", "provider"], infer_schema=False).filter(
        pl.col("ward_id") != ""
    )
    return dict(zip(frame["ward_id"].to_list(), frame["provider"].to_list(), strict=True))
