"""CUSUM detectors: Poisson / negative-binomial LR, binomial / beta-binomial LR, standardised normal.

Every chart is one-sided and oriented so that larger is worse: ``S_t = max(0, S_{t-1} + z_t)`` with
``z_t`` the log-likelihood ratio of the design shift against the in-control baseline (LR CUSUMs, scale:
natural-log likelihood units) or ``+-residual - k`` (normal tabular CUSUM, scale: standard deviations).
``direction="both"`` runs two one-sided charts (a rise and a fall), each with its own threshold.

* Signal: ``S_t > threshold`` (strict, as ``surveillance::lr_cusum``; the Höhle–Paul LR-CUSUM test
  series is reproduced exactly in ``tests/detectors``).
* Missing periods (NaN numerator, exposure or expected rate, e.g. before the baseline is ready): the
  statistic and the onset carry over unchanged and no alarm is raised at that period.
* Restart after an alarm (``restart``): ``zero`` (default; ARL0 is then the zero-state ARL and
  alarms form a renewal process), ``head_start`` (fast initial response: restart at
  ``head_start * threshold``), or ``none`` (keep accumulating: every period above the threshold is
  reported as alarming).
* Onset: the first period of the current excursion above zero (the period after the statistic last
  left zero), the standard CUSUM change-point estimate.
* Thresholds are in the statistic's own units and should come from a stated in-control ARL
  (``engine.arl`` or :func:`engine.detectors.simulate.calibrate_threshold`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from engine.detectors import scores
from engine.detectors._kernels import RESTART_CODES, cusum_path
from engine.detectors.base import PanelDetector, check_arrays, per_series, side_threshold
from engine.detectors.result import DetectorResult, SideResult

Direction = Literal["up", "down", "both"]
Restart = Literal["zero", "head_start", "none"]


@dataclass(frozen=True)
class _Cusum(PanelDetector[DetectorResult]):
    """Shared direction, threshold and restart settings (fields documented in the subclasses)."""

    direction: Direction = field(default="up", metadata={"doc": "up, down or both (two one-sided charts)"})
    threshold: float = field(default=5.0, metadata={"doc": "signal when the up-statistic exceeds this"})
    threshold_down: float | None = field(
        default=None, metadata={"doc": "threshold of the down chart (None = same as threshold)"}
    )
    restart: Restart = field(default="zero", metadata={"doc": "after an alarm: zero, head_start or none"})
    head_start: float = field(
        default=0.5, metadata={"doc": "restart value as a fraction of the threshold (restart=head_start)"}
    )
    initial_head_start: bool = field(
        default=False, metadata={"doc": "start the chart at head_start * threshold (FIR) instead of 0"}
    )

    name = "cusum"

    def _sides(self) -> tuple[str, ...]:
        if self.direction not in ("up", "down", "both"):
            raise ValueError(f"direction must be up, down or both, got {self.direction!r}")
        return ("up", "down") if self.direction == "both" else (self.direction,)

    def _side(self, z: np.ndarray, direction: str) -> SideResult:
        s_count = z.shape[0]
        thr = per_series(side_threshold(self.threshold, self.threshold_down, direction), s_count)
        hs = self.head_start * thr
        init = hs if self.initial_head_start else np.zeros(s_count)
        stat, alarm, onset = cusum_path(
            np.ascontiguousarray(z), thr, RESTART_CODES[self.restart], hs, np.ascontiguousarray(init)
        )
        return SideResult(direction, stat, thr, alarm, onset)

    def _increments(self, y, n, rate, dispersion, direction):  # pragma: no cover - abstract
        raise NotImplementedError

    def _run_checked(
        self, y: np.ndarray, n: np.ndarray, rate: np.ndarray, dispersion: float | np.ndarray | None
    ) -> DetectorResult:
        return self.run_increments({d: self._increments(y, n, rate, dispersion, d) for d in self._sides()})

    def increments(
        self,
        y: np.ndarray,
        n: np.ndarray,
        expected_rate: np.ndarray,
        dispersion: float | np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """``{direction: (S, T) increments}`` of each side, for callers that also need the evidence."""
        y, n, r = check_arrays(y, n, expected_rate)
        return {d: self._increments(y, n, r, dispersion, d) for d in self._sides()}

    def run_increments(self, increments: dict[str, np.ndarray]) -> DetectorResult:
        """The chart from increments computed by :meth:`increments` (same result as :meth:`run`)."""
        return DetectorResult(self.name, tuple(self._side(increments[d], d) for d in self._sides()))


@dataclass(frozen=True)
class PoissonCusum(_Cusum):
    """Poisson log-likelihood-ratio CUSUM with exposure (``mu_t = expected_rate_t * n_t``).

    Increment for a design rate ratio ``rho`` (``kappa = ln rho``): ``kappa y_t + (1 - rho) mu_t``
    (Lucas 1985 / Höhle–Paul LR CUSUM; equals ``kappa (y_t - k_t)`` with Lucas' reference value). With
    ``overdispersed=True`` and an NB ``alpha > 0`` the negative-binomial LR increment is used instead;
    for the ``measure`` family the quasi-likelihood ratio (divided by ``phi``).
    """

    rate_ratio_up: float = field(default=1.5, metadata={"doc": "design rate ratio of the up chart (> 1)"})
    rate_ratio_down: float = field(default=0.5, metadata={"doc": "design rate ratio of the down chart (< 1)"})
    overdispersed: bool = field(
        default=False, metadata={"doc": "use the NB likelihood with the baseline's alpha (counts)"}
    )
    family: Literal["count", "measure"] = field(default="count", metadata={"doc": "count or measure"})

    name = "cusum_poisson"

    def _increments(self, y, n, rate, dispersion, direction):
        ratio = self.rate_ratio_up if direction == "up" else self.rate_ratio_down
        if (direction == "up") != (ratio > 1):
            raise ValueError(f"rate ratio {ratio} does not point {direction}")
        mu = rate * n
        disp = dispersion if (self.overdispersed or self.family == "measure") else None
        return scores.poisson_llr(y, mu, ratio, self.family, disp)


@dataclass(frozen=True)
class NegBinCusum(PoissonCusum):
    """Negative-binomial LR CUSUM: :class:`PoissonCusum` using the baseline's NB ``alpha``."""

    overdispersed: bool = field(
        default=True, metadata={"doc": "use the NB likelihood (always for this chart)"}
    )

    name = "cusum_nb"


@dataclass(frozen=True)
class BinomialCusum(_Cusum):
    """Binomial (Bernoulli when ``n = 1``) LR CUSUM for ``y`` events out of ``n`` with a design odds ratio.

    Increment ``y ln(OR) - n ln(1 - p + OR p)``; with ``overdispersed=True`` and ``rho > 0`` the
    beta-binomial log-likelihood ratio (``surveillance::categoricalCUSUM`` style).
    """

    odds_ratio_up: float = field(default=1.5, metadata={"doc": "design odds ratio of the up chart (> 1)"})
    odds_ratio_down: float = field(default=1 / 1.5, metadata={"doc": "design odds ratio of the down chart"})
    overdispersed: bool = field(default=True, metadata={"doc": "use the beta-binomial likelihood with rho"})

    name = "cusum_binomial"

    def _increments(self, y, n, rate, dispersion, direction):
        ratio = self.odds_ratio_up if direction == "up" else self.odds_ratio_down
        if (direction == "up") != (ratio > 1):
            raise ValueError(f"odds ratio {ratio} does not point {direction}")
        return scores.binomial_llr(y, n, rate, ratio, dispersion if self.overdispersed else None)


@dataclass(frozen=True)
class NormalCusum(_Cusum):
    """Tabular CUSUM on standardised (Pearson) residuals: ``C_t = max(0, C_{t-1} +- z_t - k)``.

    Residuals use the family's in-control variance with overdispersion (NB ``mu + alpha mu^2``,
    beta-binomial, or quasi-Poisson ``phi mu``): the variance-inflated standardisation. ``threshold``
    is ``h`` in standard deviations (k = 0.5, h = 4: two-sided ARL0 168 for normal data).
    """

    threshold: float = field(default=4.0, metadata={"doc": "h in standard deviations"})
    k: float = field(default=0.5, metadata={"doc": "reference value in standard deviations"})
    family: Literal["count", "proportion", "measure", "normal"] = field(
        default="count", metadata={"doc": "count, proportion, measure, or normal (y already standardised)"}
    )
    overdispersed: bool = field(default=True, metadata={"doc": "inflate the variance by the dispersion"})

    name = "cusum_normal"

    def _increments(self, y, n, rate, dispersion, direction):
        if self.family == "normal":
            with np.errstate(invalid="ignore"):
                z = y - rate
                if dispersion is not None:
                    z = z / np.sqrt(scores._broadcast(dispersion, y.shape, 1.0))
        else:
            disp = dispersion if (self.overdispersed or self.family == "measure") else None
            z = scores.pearson_residual(y, n, rate, self.family, disp)
        return (z if direction == "up" else -z) - self.k
