"""Long frames from the generator's arrays, and writing a trust to disk.

The canonical frame (:data:`engine.panel.OBSERVATION_SCHEMA`) is built from flat numpy index arrays
and gathered into polars columns (no per-row Python), so a national panel of 10M+ rows takes seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from engine.panel import STATUS_LABELS
from signals import CATALOGUE, WARD_INDICATORS
from synthetic.latent import Calendar

if TYPE_CHECKING:
    from synthetic.generator import IndicatorArrays, SyntheticTrust

Format = Literal["csv", "parquet"]
#: Columns of the contract's observation file, in order.
CONTRACT_COLUMNS: tuple[str, ...] = ("ward_id", "period", "indicator", "numerator", "denominator")


def long_frame(arrays: dict[str, IndicatorArrays], cal: Calendar, ward_ids: np.ndarray) -> pl.DataFrame:
    """Canonical observation frame of all written rows, sorted by ward, indicator, period.

    Each indicator's written cells are scattered straight to their final row: the row of cell
    ``(w, t)`` of indicator ``i`` is the number of rows of all (ward, indicator) pairs before
    ``(w, i)`` plus the rank of ``t`` among the ward's written periods of ``i`` (no sort needed).
    """
    keys = list(WARD_INDICATORS)
    counts = np.stack([arrays[k].written.sum(axis=1) for k in keys], axis=1)  # (W, I)
    offsets = (np.cumsum(counts.ravel()) - counts.ravel()).reshape(counts.shape)
    total = int(counts.sum())
    dates = np.concatenate([cal.weeks, cal.months])
    w_out = np.empty(total, np.uint32)
    i_out = np.empty(total, np.uint8)
    p_out = np.empty(total, np.uint32)
    y_out = np.empty(total)
    n_out = np.empty(total)
    s_out = np.empty(total, np.int8)
    for code, key in enumerate(keys):
        a = arrays[key]
        written = a.written
        pos = (offsets[:, code][:, None] + np.cumsum(written, axis=1) - 1)[written]
        wi, ti = np.nonzero(written)
        w_out[pos] = wi
        i_out[pos] = code
        p_out[pos] = ti + (0 if a.cadence == "weekly" else cal.weeks.size)
        y_out[pos] = a.published[written]
        n_out[pos] = a.n[written] if CATALOGUE[key].exposure else np.nan
        s_out[pos] = a.status[written]
    return pl.DataFrame(
        {
            "ward_id": pl.Series(ward_ids.astype(str)).gather(w_out),
            "period": pl.Series(dates).gather(p_out),
            "indicator": pl.Series(keys).gather(i_out),
            "numerator": pl.Series(y_out, nan_to_null=True),
            "denominator": pl.Series(n_out, nan_to_null=True),
            "status": pl.Series(list(STATUS_LABELS)).gather(s_out),
        }
    )


def _number_text(col: str) -> pl.Expr:
    """Shortest text of a number already rounded to at most one decimal ("12", "32.4")."""
    return pl.col(col).cast(pl.String).str.strip_suffix(".0")


def contract_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Contract long format: numerator as text (``*`` when suppressed, empty when unknown)."""
    return frame.select(
        "ward_id",
        "period",
        "indicator",
        pl.when(pl.col("status") == "suppressed")
        .then(pl.lit("*"))
        .otherwise(_number_text("numerator"))
        .alias("numerator"),
        _number_text("denominator").alias("denominator"),
    )


#: Columns of ``latent.parquet`` (the generator's true in-control rates, for the evaluation's oracle).
LATENT_COLUMNS: tuple[str, ...] = (
    "ward_id",
    "indicator",
    "period",
    "cadence",
    "expected_rate",
    "multiplier",
    "dispersion",
)


def true_dispersion(trust: SyntheticTrust) -> dict[str, float]:
    """Generator dispersion per indicator in scoring's parameterisation: NB ``alpha = 1 / size``
    (counts; 0 = Poisson; prone restraints, a binomial thinning of NB restraints, keep restraint's
    size), beta-binomial ``rho`` (proportions); NaN for seclusion hours (a compound gamma sum)."""
    from synthetic.generator import bb_rho, nb_size

    size = nb_size(trust.spec.dispersion_scale)
    size["prone_restraint"] = size["restraint"]
    out = {k: (0.0 if np.isinf(v) else 1.0 / v) for k, v in size.items()}
    return out | bb_rho(trust.spec.dispersion_scale) | {"seclusion_hours": float("nan")}


def latent_frame(trust: SyntheticTrust) -> pl.DataFrame:
    """Long frame of the true in-control rate of every ward, indicator and period.

    ``expected_rate`` is the latent expected numerator per unit of the denominator *without* the
    injected multiplier (``expected / multiplier``: base, heterogeneity, drift, season and latent
    factors); ``multiplier`` is the injected one; ``dispersion`` as :func:`true_dispersion`. Every
    cell is written, also where no observation row was (so the oracle can skip them itself).
    """
    disp = true_dispersion(trust)
    parts = []
    for key in WARD_INDICATORS:
        a = trust.arrays[key]
        periods = trust.periods(key)
        w_count, t_count = a.expected.shape
        parts.append(
            pl.DataFrame(
                {
                    "ward_id": np.repeat(trust.ward_ids.astype(str), t_count),
                    "indicator": key,
                    "period": np.tile(periods, w_count),
                    "cadence": a.cadence,
                    "expected_rate": (a.expected / a.multiplier).ravel(),
                    "multiplier": a.multiplier.ravel(),
                    "dispersion": np.full(w_count * t_count, disp.get(key, np.nan)),
                }
            ).with_columns(pl.col("period").cast(pl.Date))
        )
    return pl.concat(parts).select(LATENT_COLUMNS)


def write_trust(
    trust: SyntheticTrust, out: str | Path, fmt: Format = "csv", latent: bool = False
) -> dict[str, Path]:
    """Write ``observations.csv|parquet``, ``wards.csv``, ``events.csv`` and ``truth.csv`` to ``out``
    (and ``latent.parquet``, :func:`latent_frame`, when ``latent``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "observations": out / f"observations.{fmt}",
        "wards": out / "wards.csv",
        "events": out / "events.csv",
        "truth": out / "truth.csv",
    }
    obs = trust.observations
    if fmt == "csv":
        obs.write_csv(paths["observations"])
    elif fmt == "parquet":
        obs.write_parquet(paths["observations"])
    else:
        raise ValueError(f"unknown format {fmt!r}")
    trust.wards.write_csv(paths["wards"])
    trust.events.write_csv(paths["events"])
    trust.truth.write_csv(paths["truth"])
    if latent:
        paths["latent"] = out / "latent.parquet"
        latent_frame(trust).write_parquet(paths["latent"])
    return paths
