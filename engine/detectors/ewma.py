"""EWMA of standardised rates with exact (time-varying) control limits.

Residuals are Pearson residuals under the baseline (:func:`engine.detectors.scores.pearson_residual`,
variance inflated by the overdispersion), so the in-control residual has mean 0 and variance 1:
``Z_t = lam r_t + (1 - lam) Z_{t-1}``, ``Z_0 = 0``, limits
``+- L sqrt(lam/(2 - lam) (1 - (1 - lam)^(2 i)))`` after ``i`` usable observations since the start or
the last restart (the exact variance of ``Z``; the asymptotic Lucas–Saccucci limits are the
``i -> infinity`` value, so exact limits signal earlier and give a shorter ARL0 than the published
fixed-limit tables). Missing periods: ``Z`` and ``i`` carry over. ``direction``: ``up`` alarms only
above the upper limit, ``down`` only below the lower, ``both`` on either. Each side is reported
oriented so that larger is worse (the down side's statistic is ``-Z``). Restart after an alarm:
``zero`` (``Z = 0`` and ``i = 0``) or ``none``. Onset: first period of the current run of ``Z`` on
that side of zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from engine.detectors import scores
from engine.detectors._kernels import RESTART_CODES, ewma_path
from engine.detectors.base import PanelDetector
from engine.detectors.result import DetectorResult, SideResult


@dataclass(frozen=True)
class Ewma(PanelDetector[DetectorResult]):
    """Exact-limit EWMA on Pearson residuals."""

    direction: Literal["up", "down", "both"] = field(default="up", metadata={"doc": "up, down or both"})
    lam: float = field(default=0.1, metadata={"doc": "smoothing weight lambda in (0, 1]"})
    limit: float = field(default=2.7, metadata={"doc": "L: limit width in standard deviations of Z"})
    family: Literal["count", "proportion", "measure", "normal"] = field(
        default="count", metadata={"doc": "family of the residuals (normal: y already on its own scale)"}
    )
    overdispersed: bool = field(default=True, metadata={"doc": "inflate the variance by the dispersion"})
    restart: Literal["zero", "none"] = field(default="zero", metadata={"doc": "after an alarm: zero or none"})

    name = "ewma"

    def residuals(
        self, y: np.ndarray, n: np.ndarray, expected_rate: np.ndarray, dispersion: float | np.ndarray | None
    ) -> np.ndarray:
        """``(S, T)`` standardised residuals fed to the EWMA."""
        if self.family == "normal":
            with np.errstate(invalid="ignore"):
                z = y - expected_rate
                if dispersion is not None:
                    z = z / np.sqrt(scores._broadcast(dispersion, y.shape, 1.0))
            return z
        disp = dispersion if (self.overdispersed or self.family == "measure") else None
        return scores.pearson_residual(y, n, expected_rate, self.family, disp)

    def _run_checked(
        self, y: np.ndarray, n: np.ndarray, rate: np.ndarray, dispersion: float | np.ndarray | None
    ) -> DetectorResult:
        if not 0 < self.lam <= 1:
            raise ValueError("lam must be in (0, 1]")
        z = np.ascontiguousarray(self.residuals(y, n, rate, dispersion))
        up = self.direction in ("up", "both")
        down = self.direction in ("down", "both")
        stat, lim, a_up, a_dn, o_up, o_dn = ewma_path(
            z, float(self.lam), float(self.limit), up, down, RESTART_CODES[self.restart]
        )
        sides = []
        if up:
            sides.append(SideResult("up", stat, lim, a_up, o_up))
        if down:
            sides.append(SideResult("down", -stat, lim, a_dn, o_dn))
        return DetectorResult(self.name, tuple(sides))
