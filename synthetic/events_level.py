"""A synthetic incident-system export (one row per event) with its mapping, exposure and coverage.

Turns a generated trust's weekly counts back into the raw material a trust actually holds, so the
path ``export -> wardwatch aggregate -> validate -> score -> dashboard`` is tested end to end:

* ``incidents.csv``: one row per event: ``Ward``, ``Incident date`` (a day in the week, some with a
  time), ``Type of incident`` (Datix-like categories) and a free-text ``Description`` that
  ``aggregate`` never carries forward; plus a few rows of a category the mapping does not map;
* ``mapping.toml``: columns, cadence and categories (``Restraint - prone`` counts for both
  ``restraint`` and ``prone_restraint``; three restraint categories map to ``restraint``);
* ``bed_days.csv``: the exposure in the contract's long layout (``ward_id, period, denominator``);
* ``coverage.csv``: the ward-weeks the export is declared complete for: the weeks where the
  generator reported every mapped indicator. Elsewhere ``aggregate`` must write unknown, not zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import polars.selectors as cs

#: Source category -> catalogue indicators (the mapping written to mapping.toml).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "Restraint - prone": ("restraint", "prone_restraint"),
    "Restraint - supine": ("restraint",),
    "Restraint - seated": ("restraint",),
    "Seclusion": ("seclusion",),
    "Rapid tranquillisation": ("rapid_tranquillisation",),
    "Injury to patient": ("injuries",),
    "Safeguarding referral": ("safeguarding_referrals",),
    "Sexual safety": ("sexual_safety_incidents",),
}
MAPPED = ("restraint", "prone_restraint", "seclusion", "rapid_tranquillisation", "injuries",
          "safeguarding_referrals", "sexual_safety_incidents")  # fmt: skip
UNMAPPED_CATEGORY = "Medication error"


def mapping_toml() -> str:
    """The mapping file text for :func:`write_events_level`'s export."""
    lines = [
        "# wardwatch aggregate mapping for the synthetic incident export (docs/aggregate.md)",
        'cadence = "weekly"',
        "",
        "[columns]",
        'ward = "Ward"',
        'date = "Incident date"',
        'category = "Type of incident"',
        "",
        "[categories]",
    ]
    for cat, inds in CATEGORIES.items():
        target = f'"{inds[0]}"' if len(inds) == 1 else "[" + ", ".join(f'"{i}"' for i in inds) + "]"
        lines.append(f'"{cat}" = {target}')
    return "\n".join(lines) + "\n"


def events_level(observations: pl.DataFrame, seed: int = 0) -> dict[str, pl.DataFrame]:
    """Incident rows, exposure and coverage frames from a generated trust's observations."""
    rng = np.random.default_rng(seed)
    obs = observations.filter(pl.col("indicator").is_in(MAPPED)).with_columns(
        pl.col("numerator").cast(pl.Int64, strict=False).alias("y"),
        pl.col("denominator").cast(pl.Float64, strict=False).alias("n"),
    )
    wide = obs.pivot(on="indicator", index=["ward_id", "period"], values="y").sort("ward_id", "period")
    for k in MAPPED:
        if k not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Int64).alias(k))
    covered = pl.all_horizontal([pl.col(k).is_not_null() for k in MAPPED])
    # categories per ward-week: prone events count for both restraint indicators
    other = (pl.col("restraint") - pl.col("prone_restraint")).clip(lower_bound=0)
    counts = wide.filter(covered).select(
        "ward_id",
        "period",
        pl.col("prone_restraint").alias("Restraint - prone"),
        (other // 2).alias("Restraint - supine"),
        (other - other // 2).alias("Restraint - seated"),
        pl.col("seclusion").alias("Seclusion"),
        pl.col("rapid_tranquillisation").alias("Rapid tranquillisation"),
        pl.col("injuries").alias("Injury to patient"),
        pl.col("safeguarding_referrals").alias("Safeguarding referral"),
        pl.col("sexual_safety_incidents").alias("Sexual safety"),
    )
    long = counts.unpivot(index=["ward_id", "period"], variable_name="category", value_name="count")
    long = long.filter(pl.col("count") > 0)
    rows = long.select(pl.all().repeat_by(pl.col("count"))).explode(cs.all()).drop("count")
    # a few unmapped rows, and the events of uncovered weeks too (the export has them; coverage says no)
    uncovered = wide.filter(~covered & pl.col("seclusion").is_not_null() & (pl.col("seclusion") > 0))
    extra = pl.concat(
        [
            rows.sample(min(5, rows.height), seed=seed).with_columns(
                pl.lit(UNMAPPED_CATEGORY).alias("category")
            ),
            uncovered.select("ward_id", "period", pl.lit("Seclusion").alias("category")),
        ]
    )
    rows = pl.concat([rows, extra])
    day = rng.integers(0, 7, rows.height)
    hour = rng.integers(0, 24, rows.height)
    with_time = rng.random(rows.height) < 0.3
    dates = rows["period"].to_numpy().astype("datetime64[D]") + day
    text = [
        f"{d} {h:02d}:15" if t else str(d) for d, h, t in zip(dates.astype(str), hour, with_time, strict=True)
    ]
    incidents = (
        rows.with_columns(pl.Series("Incident date", text))
        .select(
            pl.col("ward_id").alias("Ward"),
            "Incident date",
            pl.col("category").alias("Type of incident"),
            pl.lit("Incident logged by ward staff; see the incident system").alias("Description"),
        )
        .sample(fraction=1.0, shuffle=True, seed=seed)
    )
    bed_days = (
        obs.filter(pl.col("indicator") == "restraint", pl.col("n").is_not_null())
        .select("ward_id", "period", pl.col("n").cast(pl.Int64).alias("denominator"))
        .sort("ward_id", "period")
    )
    coverage = wide.filter(covered).select("ward_id", "period")
    return {"incidents": incidents, "bed_days": bed_days, "coverage": coverage}


def write_events_level(observations: pl.DataFrame, out: str | Path, seed: int = 0) -> dict[str, Path]:
    """Write incidents.csv, mapping.toml, bed_days.csv and coverage.csv into ``out/events_level``."""
    d = Path(out) / "events_level"
    d.mkdir(parents=True, exist_ok=True)
    frames = events_level(observations, seed)
    paths = {
        "incidents": d / "incidents.csv",
        "mapping": d / "mapping.toml",
        "bed_days": d / "bed_days.csv",
        "coverage": d / "coverage.csv",
    }
    frames["incidents"].write_csv(paths["incidents"])
    paths["mapping"].write_text(mapping_toml(), encoding="utf-8")
    frames["bed_days"].write_csv(paths["bed_days"], date_format="%Y-%m-%d")
    frames["coverage"].write_csv(paths["coverage"], date_format="%Y-%m-%d")
    return paths
