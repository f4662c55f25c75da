"""Writing a generated trust to disk, and the latent-rate frame the evaluation's oracle reads.

This module consumes a :class:`synthetic.generator.SyntheticTrust`; the observation frames the
generator itself builds live in :mod:`synthetic.rows` (re-exported here for existing callers).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from signals import WARD_INDICATORS
from synthetic.rates import bb_rho, nb_size

# Moved to synthetic.rows (the generator's own output); kept importable from here.
from synthetic.rows import CONTRACT_COLUMNS as CONTRACT_COLUMNS
from synthetic.rows import contract_frame as contract_frame
from synthetic.rows import long_frame as long_frame

if TYPE_CHECKING:
    from synthetic.generator import SyntheticTrust

Format = Literal["csv", "parquet"]


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
