"""Settings and result dataclasses shared by the run-length (ARL) modules.

Units: every run length is counted in *periods* of the chart (weeks for a weekly chart, Bernoulli
trials for a Bernoulli CUSUM). ARLs are zero-state: the chart starts at its start value (0 for a
CUSUM, the target for an EWMA, or the stated head start) and the stated shift is present from the
first observation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Method = Literal["closed_form", "markov", "integral", "simulation"]


@dataclass(frozen=True)
class ArlResult:
    """An average run length and how it was obtained.

    Attributes
    ----------
    arl : float
        Average run length in periods (``inf`` when the chart can never signal).
    method : str
        ``"closed_form"``, ``"markov"`` (exact lattice chain or Brook–Evans/Lucas–Saccucci
        discretisation), ``"integral"`` (Nyström solution of the integral equation) or
        ``"simulation"``.
    se : float or None
        Monte Carlo standard error of ``arl`` (periods); ``None`` for deterministic methods.
    replicates : int or None
        Number of simulated run lengths (simulation only).
    censored : int
        Replicates that had not signalled when the simulation cap was reached (their run length
        is counted as the cap, so ``arl`` is then a lower bound).
    """

    arl: float
    method: Method
    se: float | None = None
    replicates: int | None = None
    censored: int = 0

    def as_dict(self) -> dict[str, float | int | str | None]:
        """Plain dictionary (JSON-ready) of the result."""
        return {
            "arl": self.arl,
            "method": self.method,
            "se": self.se,
            "replicates": self.replicates,
            "censored": self.censored,
        }


@dataclass(frozen=True)
class ArlSettings:
    """Numerical settings for the ARL engines (one block of the TOML configuration).

    Defaults reproduce the published tables in ``sequential-methods.md`` to their printed
    precision; increase them only to check convergence.
    """

    #: Gauss–Legendre nodes for the Nyström solution of Page's CUSUM integral equation.
    cusum_nodes: int = 120
    #: Gauss–Legendre nodes for Crowder's EWMA integral equation (small λ needs more nodes).
    ewma_nodes: int = 300
    #: Transient states of the Brook–Evans / Lucas–Saccucci Markov-chain cross-checks.
    markov_states: int = 400
    #: Simulated run lengths per ARL estimate.
    replicates: int = field(default=20_000, metadata={"doc": "simulated run lengths per ARL estimate"})
    #: Periods simulated per chunk before checking which replicates have signalled.
    chunk_periods: int = 512
    #: Hard cap on simulated periods per replicate (censored beyond it; reported in the result).
    max_periods: int = 1_000_000
    #: Seed for ``numpy.random.default_rng``; every simulation is reproducible from it.
    seed: int = field(default=20_240_501, metadata={"doc": "simulation seed"})


@dataclass(frozen=True)
class CalibrationResult:
    """Threshold found for a target in-control ARL.

    Attributes
    ----------
    threshold : float
        The decision interval (CUSUM ``h``, EWMA/Shewhart ``L``) meeting the target.
    arl0 : float
        In-control ARL at ``threshold`` (periods).
    target_arl0 : float
        The requested in-control ARL (periods).
    method : str
        Method used for the ARL evaluations (see :class:`ArlResult`).
    se : float or None
        Monte Carlo standard error of ``arl0`` (simulation only).
    """

    threshold: float
    arl0: float
    target_arl0: float
    method: Method
    se: float | None = None

    def as_dict(self) -> dict[str, float | str | None]:
        """Plain dictionary (JSON-ready) of the result."""
        return {
            "threshold": self.threshold,
            "arl0": self.arl0,
            "target_arl0": self.target_arl0,
            "method": self.method,
            "se": self.se,
        }
