"""Threshold lab maths: ARL curves of a detector for a range of true shifts (engine.arl underneath).

Run lengths are in periods (weeks for a weekly chart). In-control ARL (ARL0) is the mean time to a
false alarm; out-of-control ARL (ARL1) the mean delay to detection when the shift is present from
the start (zero-state). Count CUSUMs are computed exactly on a rational lattice, so the reference
value ``k`` is rounded to a multiple of ``1/lattice`` (default 1/20) before use, as
``engine.arl.lattice`` requires.
"""

from __future__ import annotations

import functools
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


def threshold_nats(s: LabSettings) -> float:
    """A CUSUM's count-scale threshold ``h`` in nats (log-likelihood ratio units): ``h ln(ratio)``.

    wardwatch's CUSUMs accumulate log-likelihood ratios; dividing by ``ln(ratio)`` puts them on the
    count scale the exact ARL lattice uses (increments ``y - k``).
    """
    if s.detector == "ewma":
        raise ValueError("the EWMA has no CUSUM threshold")
    return float(s.h * np.log(s.ratio))


@dataclass(frozen=True)
class DetectorInForce:
    """The ARL calculator's starting point for one indicator of the configuration in force."""

    indicator: str
    settings: LabSettings
    description: str


def _in_control_level(results, indicator: str) -> tuple[float, float, int]:
    """(mean events per period, pooled proportion, median denominator) of an indicator's observed rows."""
    if results is None or not results.series_path.exists():
        return 0.7, 0.12, 120
    stat = results.series_path.stat()
    return _level_of(str(results.series_path), stat.st_size, stat.st_mtime_ns, indicator)


@functools.lru_cache(maxsize=64)
def _level_of(path: str, size: int, mtime_ns: int, indicator: str) -> tuple[float, float, int]:
    """:func:`_in_control_level` of one ``series.parquet`` version (memoised on size and mtime)."""
    import polars as pl

    rows = (
        pl.scan_parquet(path)
        .filter((pl.col("indicator") == indicator) & (pl.col("status") == "observed"))
        .select(
            pl.col("numerator").mean().alias("mean"),
            (pl.col("numerator").sum() / pl.col("denominator").sum()).alias("p"),
            pl.col("denominator").median().alias("n"),
        )
        .collect()
    )
    mean, p, n = rows.row(0) if rows.height else (None, None, None)
    return (
        float(mean) if mean is not None and mean > 0 else 0.7,
        float(min(max(p, 0.001), 0.9)) if p is not None and np.isfinite(p) else 0.12,
        int(n) if n is not None and np.isfinite(n) and n >= 1 else 120,
    )


def detector_in_force(config, results, indicator: str) -> DetectorInForce:
    """The detector, design shift and threshold the configuration gives ``indicator``, on the lab's scale.

    The in-control level (events per week, or proportion and trials) is the indicator's observed
    average in the served results (the lab's defaults when there are none).
    """
    from engine.detectors.ewma import Ewma

    catalogue = config.build_catalogue()
    if indicator not in catalogue:
        indicator = next(iter(catalogue))
    ind = catalogue[indicator]
    cfg = config.indicator(indicator)
    nats = cfg.threshold if cfg.threshold is not None else config.combination.cusum_threshold
    where = "its own threshold" if cfg.threshold is not None else "combination.cusum_threshold"
    mean, p, n = _in_control_level(results, indicator)
    if cfg.detector == "ewma":
        e = Ewma()
        s = LabSettings(detector="ewma", lam=e.lam, L=e.limit)
        text = f"EWMA, λ = {e.lam:g}, limits L = {e.limit:g} σ."
    elif ind.family == "proportion":
        ratio = cfg.odds_ratio_up
        s = LabSettings(
            detector="binomial_cusum", p0=round(p, 3), trials=n, ratio=ratio, h=round(nats / np.log(ratio), 2)
        )
        text = (
            f"binomial CUSUM for a rise (odds ratio {ratio:g}), threshold {nats:g} nats ({where}) = "
            f"h {s.h:g} events; in-control proportion {p:.3f} over {n} trials per week (observed)."
        )
    else:
        ratio = cfg.rate_ratio_up
        s = LabSettings(
            detector="poisson_cusum", mu0=round(mean, 2), ratio=ratio, h=round(nats / np.log(ratio), 2)
        )
        text = (
            f"Poisson CUSUM for a rise (rate ratio {ratio:g}), threshold {nats:g} nats ({where}) = "
            f"h {s.h:g} events; {mean:.2f} events per period in control (observed average)."
        )
    return DetectorInForce(indicator, s, text)
