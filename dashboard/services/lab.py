"""Threshold lab maths: ARL curves of a detector for a range of true shifts (engine.arl underneath).

Run lengths are in periods (weeks for a weekly chart). In-control ARL (ARL0) is the mean time to a
false alarm; out-of-control ARL (ARL1) the mean delay to detection when the shift is present from
the start (zero-state). Count CUSUMs are computed exactly on a rational lattice, so the reference
value ``k`` is rounded to a multiple of ``1/lattice`` (default 1/20) before use, as
``engine.arl.lattice`` requires.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from scipy.stats import binom, poisson

from engine.arl import (
    binomial_cusum_arl,
    binomial_reference_value,
    count_cusum_h,
    ewma_arl,
    ewma_L,
    poisson_cusum_arl,
    poisson_reference_value,
)
from engine.arl.lattice import round_to_lattice

Detector = Literal["poisson_cusum", "binomial_cusum", "ewma"]
DETECTORS: dict[str, str] = {
    "poisson_cusum": "Poisson CUSUM (counts per week, e.g. restraints)",
    "binomial_cusum": "Binomial CUSUM (proportions, e.g. agency shifts)",
    "ewma": "EWMA of standardised residuals",
}


@dataclass(frozen=True)
class LabSettings:
    """One detector configuration chosen in the lab (saved as TOML)."""

    #: detector family.
    detector: str = "poisson_cusum"
    #: Poisson: expected events per week in control.
    mu0: float = 0.7
    #: Binomial: in-control proportion and trials per week.
    p0: float = 0.12
    trials: int = 120
    #: shift the chart is tuned to detect: rate ratio (Poisson) or odds ratio (binomial).
    ratio: float = 2.0
    #: decision threshold h on the count scale (CUSUMs).
    h: float = 4.0
    #: lattice denominator for exact count-CUSUM ARLs (k and h are multiples of 1/lattice).
    lattice: int = 20
    #: EWMA smoothing constant and limit multiplier (sigma units).
    lam: float = 0.1
    L: float = 2.814

    def as_toml_table(self) -> dict[str, object]:
        """Plain dictionary for ``tomli_w``."""
        return asdict(self)


@dataclass(frozen=True)
class ArlCurve:
    """ARL (periods) at each true shift; ``shift`` is a rate/odds ratio or a sigma shift (EWMA)."""

    shift: np.ndarray
    arl: np.ndarray
    arl0: float
    shift_label: str
    k: float | None = None


def reference_k(s: LabSettings) -> float:
    """The CUSUM reference value ``k`` (count scale), rounded to the lattice."""
    if s.detector == "poisson_cusum":
        return round_to_lattice(poisson_reference_value(s.mu0, s.mu0 * s.ratio), s.lattice)
    if s.detector == "binomial_cusum":
        return round_to_lattice(binomial_reference_value(s.p0, s.ratio, s.trials), s.lattice)
    raise ValueError("reference value only for CUSUMs")


def arl_curve(s: LabSettings, points: int = 15) -> ArlCurve:
    """ARL at ``points`` true shifts from none up to 1.5x the design shift (EWMA: 0 to 3 sigma)."""
    if s.detector == "ewma":
        shifts = np.linspace(0.0, 3.0, points)
        arl = np.array([ewma_arl(s.lam, s.L, float(d)).arl for d in shifts])
        return ArlCurve(shifts, arl, float(arl[0]), "shift (standard deviations)")
    k = reference_k(s)
    h = round_to_lattice(s.h, s.lattice)
    shifts = np.linspace(1.0, max(1.5 * s.ratio, 1.5), points)
    if s.detector == "poisson_cusum":
        arl = np.array([poisson_cusum_arl(s.mu0 * r, k, h, m=s.lattice).arl for r in shifts])
        return ArlCurve(shifts, arl, float(arl[0]), "true rate ratio", k)
    p = s.p0 * shifts / (1 - s.p0 + s.p0 * shifts)  # true odds ratio -> probability
    arl = np.array([binomial_cusum_arl(float(q), s.trials, k, h, m=s.lattice).arl for q in p])
    return ArlCurve(shifts, arl, float(arl[0]), "true odds ratio", k)


def calibrate(s: LabSettings, target_arl0: float) -> float:
    """Smallest threshold (h for CUSUMs, L for EWMA) whose in-control ARL reaches ``target_arl0``."""
    if s.detector == "ewma":
        return float(ewma_L(s.lam, target_arl0).threshold)
    k = reference_k(s)
    dist = poisson(s.mu0) if s.detector == "poisson_cusum" else binom(s.trials, s.p0)
    return float(count_cusum_h(dist, k, target_arl0, m=s.lattice).threshold)
