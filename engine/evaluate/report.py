"""Write an evaluation folder (CSV tables, plots, provenance) and format the terminal table."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from engine.evaluate import plots
from engine.evaluate.run import Evaluation
from engine.evaluate.settings import EvaluationSettings
from engine.scoring.outputs import file_sha256, wardwatch_version

#: Files whose contents must be identical when an evaluation is rerun (``--check``).
NUMBER_FILES: tuple[str, ...] = ("episodes.csv", "summary.csv", "decoys.csv", "curves.csv")


def provenance(truth: str | Path, results: str | Path, settings: EvaluationSettings) -> dict[str, Any]:
    """What an evaluation depends on: version, settings, seeds, data hashes, the scoring run."""
    r = Path(results)
    run = json.loads((r / "run.json").read_text(encoding="utf-8")) if (r / "run.json").exists() else {}
    files = {
        name: {"path": str(r / name), "sha256": file_sha256(r / name)}
        for name in ("ward_status.csv", "series.parquet", "run.json")
        if (r / name).exists()
    }
    return {
        "wardwatch_version": wardwatch_version(),
        "evaluated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": dataclasses.asdict(settings),
        "seeds": {"bootstrap": settings.seed},
        "truth": {"path": str(Path(truth)), "sha256": file_sha256(truth)},
        "results": {"path": str(r), "files": files},
        "scoring": {
            "config_sha256": run.get("config_sha256"),
            "config": run.get("config"),
            "inputs": run.get("inputs"),
            "as_of": run.get("as_of"),
            "wardwatch_version": run.get("wardwatch_version"),
        },
    }


def write_evaluation(
    ev: Evaluation, out: str | Path, prov: dict[str, Any], with_plots: bool = True
) -> dict[str, Path]:
    """Write episodes.csv, summary.csv, decoys.csv, curves.csv, evaluation.json and the plots."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    paths = {name: d / name for name in NUMBER_FILES}
    ev.episodes.write_csv(paths["episodes.csv"], float_precision=6)
    ev.summary.write_csv(paths["summary.csv"], float_precision=6)
    ev.decoys.write_csv(paths["decoys.csv"], float_precision=6)
    ev.curves.write_csv(paths["curves.csv"], float_precision=6)
    prov = dict(prov)
    prov["outputs"] = {name: file_sha256(p) for name, p in paths.items()}
    paths["evaluation.json"] = d / "evaluation.json"
    paths["evaluation.json"].write_text(json.dumps(prov, indent=2, default=str), encoding="utf-8")
    if with_plots:
        for stem, chart in (
            ("detection_curve", plots.detection_curve(ev.curves, ev.settings.horizon_weeks)),
            ("tradeoff", plots.tradeoff(ev.summary)),
            ("decoys", plots.decoy_bars(ev.decoys)),
        ):
            for p in plots.save(chart, d / stem):
                paths[p.name] = p
    return paths


def _num(x: float | None, digits: int = 0, horizon: int | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return f">{horizon}" if horizon is not None else "inf"
    return f"{x:.{digits}f}"


def _ci(lo: float | None, hi: float | None, digits: int, horizon: int | None = None) -> str:
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return ""
    return f" ({_num(lo, digits, horizon)} to {_num(hi, digits, horizon)})"


def summary_table(summary: pl.DataFrame, horizon: int, markdown: bool = False) -> str:
    """The comparison table (terminal text, or Markdown for docs/README)."""
    head = [
        "method",
        f"detected <{horizon} wk",
        "median delay (95% CI)",
        "IQR",
        "vs oracle",
        "false alerts / ward-yr (95% CI)",
        "flagged wk share",
        "decoys escalated",
    ]
    rows = []
    for r in summary.iter_rows(named=True):
        det = f"{r['detected']:.0f}/{r['episodes']:.0f} ({_num(100 * r['detection_rate'])}%)"
        med = _num(r["delay_median"], 0, horizon) + _ci(
            r["delay_median_lo"], r["delay_median_hi"], 0, horizon
        )
        iqr = f"{_num(r['delay_q25'], 0, horizon)} to {_num(r['delay_q75'], 0, horizon)}"
        ratio = _num(r["delay_ratio_to_oracle"], 2)
        fa = _num(r["false_alerts_per_ward_year"], 3) + _ci(r["fa_lo"], r["fa_hi"], 3)
        flagged = _num(r["flagged_share"], 3)
        decoy = _num(r["decoy_escalation_rate"], 2)
        rows.append([r["label"], det, med, iqr, ratio, fa, flagged, decoy])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [fmt.format(*head), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)]
    )


def check_reproduces(folder: str | Path, rerun: dict[str, str]) -> list[str]:
    """Files whose SHA-256 in ``evaluation.json`` differs from ``rerun`` (empty: identical numbers)."""
    recorded = json.loads((Path(folder) / "evaluation.json").read_text(encoding="utf-8"))["outputs"]
    return [name for name in NUMBER_FILES if recorded.get(name) != rerun.get(name)]
