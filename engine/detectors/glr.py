"""Höhle–Paul generalised likelihood-ratio (GLR) detector for counts (Poisson or negative binomial).

Alternative ``mu1_t = mu0_t exp(kappa)`` with ``kappa`` unknown (``>= 0`` for ``up``, ``<= 0`` for
``down``): ``GLR_n = max_k sup_kappa sum_{t=k..n} log f_kappa(x_t)/f_0(x_t)`` over window starts ``k``
within the last ``window`` usable observations since the last restart (``window = 0``: since the last
restart, the package's ``M = -1``; the minimum window is one observation, ``M~ = 1``). Poisson:
closed form ``kappa = ln(X/M)`` truncated at 0; NB: Newton–Raphson on the NB score (see
``sequential-methods.md`` §2.1). Alarm when ``GLR_n >= threshold`` (``>=`` as in ``surveillance``); the
chart then restarts with the next observation. Missing periods are skipped (the window counts usable
observations) and the statistic carries over. Cost per period grows with the window (quadratic for
NB), so use a finite window (e.g. 26–104 weeks) on large panels. Onset = first period of the
maximising window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from engine.detectors._kernels import glr_path
from engine.detectors.base import PanelDetector, per_series, side_threshold
from engine.detectors.result import DetectorResult, SideResult


@dataclass(frozen=True)
class GlrPoisson(PanelDetector[DetectorResult]):
    """Windowed GLR for a multiplicative rate change (Poisson; NB when ``overdispersed``)."""

    direction: Literal["up", "down", "both"] = field(default="up", metadata={"doc": "up, down or both"})
    threshold: float = field(default=5.0, metadata={"doc": "alarm when GLR >= threshold (log-LR units)"})
    threshold_down: float | None = field(default=None, metadata={"doc": "down chart threshold (None = same)"})
    window: int = field(
        default=104, metadata={"doc": "max window in usable observations (0 = since restart)"}
    )
    overdispersed: bool = field(
        default=False, metadata={"doc": "use the NB likelihood with the baseline alpha"}
    )
    max_iter: int = field(default=50, metadata={"doc": "Newton–Raphson iterations (NB only)"})

    name = "glr_poisson"

    def _run_checked(
        self, y: np.ndarray, n: np.ndarray, rate: np.ndarray, dispersion: float | np.ndarray | None
    ) -> DetectorResult:
        """``dispersion`` is the NB alpha (scalar, ``(S,)`` or ``(S, T)``: each series' last value)."""
        s_count = y.shape[0]
        mu = np.ascontiguousarray(rate * n)
        if self.overdispersed and dispersion is not None:
            d = np.asarray(dispersion, dtype=float)
            if d.ndim == 2:  # the NB kernel takes one alpha per series: each series' last defined value
                fin = np.isfinite(d)
                last = d.shape[1] - 1 - np.argmax(fin[:, ::-1], axis=1)
                d = np.where(fin.any(axis=1), d[np.arange(d.shape[0]), last], 0.0)
            alpha = np.nan_to_num(per_series(d, s_count))
        else:
            alpha = np.zeros(s_count)
        sides = []
        for direction in ("up", "down") if self.direction == "both" else (self.direction,):
            thr = per_series(side_threshold(self.threshold, self.threshold_down, direction), s_count)
            stat, alarm, onset = glr_path(
                np.ascontiguousarray(y),
                mu,
                np.ascontiguousarray(alpha),
                int(self.window),
                1.0 if direction == "up" else -1.0,
                thr,
                int(self.max_iter),
            )
            sides.append(SideResult(direction, stat, thr, alarm, onset))
        return DetectorResult(self.name, tuple(sides))


@dataclass(frozen=True)
class GlrNegBin(GlrPoisson):
    """Negative-binomial GLR (:class:`GlrPoisson` with ``overdispersed=True``)."""

    overdispersed: bool = field(
        default=True, metadata={"doc": "use the NB likelihood (always for this chart)"}
    )

    name = "glr_nb"
