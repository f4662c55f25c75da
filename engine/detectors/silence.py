"""Silence detectors: runs of zero counts that the baseline makes improbable, and data silence.

**Silence (zero runs).** For the current run of consecutive observed zeros ending at ``t`` (missing
periods neither extend nor break it), the probability of that run under the series' own baseline is
``P = prod_t P(Y_t = 0)`` with ``P(Y_t = 0)`` from the NB (``(1 + alpha mu_t)^(-1/alpha)``), Poisson
(``exp(-mu_t)``), beta-binomial or binomial model (:func:`engine.detectors.scores.log_prob_zero`),
``mu_t = expected_rate_t * n_t``. The detector reports the run length, the expected count over the
run and ``P``, and alarms when ``P < level`` (e.g. 10 weeks with no complaints where 3 were expected:
``P = exp(-3) = 0.05`` under Poisson). Because ``P`` is the exact probability that a given run of zeros
occurs, the alarm is a test at level ``level`` of each run; with overdispersion the NB ``P`` is larger
than the Poisson one (zeros are more common), which is what keeps false alarms near the stated rate.
After an alarm, ``restart="none"`` (default) keeps the series flagged while the run continues;
``"zero"`` starts a new run (alarms then form a renewal process, for ARL simulation).

**Data silence.** A series is expected to submit every period after its first submission. A run of
``k`` non-submitted periods (missing, unknown, or suppressed when ``suppressed_is_silence``) is scored by
its posterior-predictive probability under the series' own submission history *before* the run: with
``o`` submitted and ``m`` missed expected periods and a Beta(a, b) prior on the per-period miss
probability ``q``, ``P(k in a row) = B(a + m + k, b + o) / B(a + m, b + o)`` (``= E[q^k]``). The alarm
``P < level`` and ``k >= min_run`` therefore has, for a series whose misses are independent with
probability ``q``, probability about ``level`` of being raised by any given gap: a reliable submitter
(small ``m``) is flagged after two or three missed periods, a series that often misses (high ``q``)
only after a run that is unusual *for it*; a short history makes ``P`` larger (more caution). A whole
ward is data-silent when none of its indicators is submitted; :func:`ward_data_silence` applies the
same rule to that ward-level series, as its own signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from engine.detectors import scores
from engine.detectors._kernels import missing_run_path, zero_run_path
from engine.detectors.cusum import _check_arrays
from engine.panel import OBSERVED, SUPPRESSED


@dataclass(frozen=True)
class SilenceResult:
    """Zero-run silence over ``(S, T)`` (all arrays ``(S, T)``).

    Attributes
    ----------
    run_length : int64
        Observed zero periods in the current run (0 when the last observation was positive).
    expected_count : float64
        Expected number of events over the run under the baseline.
    probability : float64
        Probability of the run under the baseline (1.0 when the run is empty).
    alarm : bool
        ``probability < level`` at an observed zero period.
    onset : int64
        First period of the current run (``-1`` when none).
    level : float
        The alarm level used.
    """

    detector: str
    run_length: np.ndarray
    expected_count: np.ndarray
    probability: np.ndarray
    alarm: np.ndarray
    onset: np.ndarray
    level: float


@dataclass(frozen=True)
class Silence:
    """Alarm on improbable runs of zero counts."""

    level: float = field(default=0.01, metadata={"doc": "alarm when P(current zero run) < level"})
    family: Literal["count", "proportion", "measure"] = field(
        default="count", metadata={"doc": "count, proportion or measure"}
    )
    overdispersed: bool = field(default=True, metadata={"doc": "NB / beta-binomial zero probability"})
    restart: Literal["none", "zero"] = field(
        default="none", metadata={"doc": "after an alarm: none (stay flagged) or zero (new run)"}
    )

    name = "silence"

    def run(
        self,
        y: np.ndarray,
        n: np.ndarray,
        expected_rate: np.ndarray,
        dispersion: float | np.ndarray | None = None,
    ) -> SilenceResult:
        """Run on ``(S, T)`` numerator, exposure, baseline rate and dispersion."""
        y, n, r = _check_arrays(y, n, expected_rate)
        disp = dispersion if (self.overdispersed or self.family == "measure") else None
        lp0 = scores.log_prob_zero(n, r, self.family, disp)
        with np.errstate(invalid="ignore"):
            mu = r * n
        run, lp, ex, alarm, onset = zero_run_path(
            np.ascontiguousarray(y),
            np.ascontiguousarray(lp0),
            np.ascontiguousarray(mu),
            float(np.log(self.level)),
            0 if self.restart == "zero" else 2,
        )
        return SilenceResult(self.name, run, ex, np.exp(lp), alarm, onset, self.level)


@dataclass(frozen=True)
class DataSilenceResult:
    """Runs of non-submission (all arrays ``(R, T)``, R = series or wards).

    Attributes
    ----------
    run_length : int64
        Consecutive non-submitted periods ending at t (0 when submitted or not yet started).
    probability : float64
        Posterior-predictive probability of the run given the earlier submission history (1.0 at 0).
    alarm : bool
        ``run_length >= min_run`` and ``probability < level``.
    onset : int64
        First period of the current gap (``-1`` when none).

    ``probability`` and ``onset`` are derived on first access (from ``log_probability`` and
    ``run_length``): scoring a national panel needs only the run and the alarm, and each derived
    ``(S, T)`` array is ~90 MB there.
    """

    detector: str
    run_length: np.ndarray
    log_probability: np.ndarray
    alarm: np.ndarray
    level: float

    @cached_property
    def probability(self) -> np.ndarray:
        """``(R, T)`` float64 probability of the current run (1.0 at 0)."""
        return np.exp(self.log_probability)

    @cached_property
    def onset(self) -> np.ndarray:
        """``(R, T)`` int64 first period of the current gap (``-1`` when none)."""
        t_idx = np.arange(self.run_length.shape[1])[None, :]
        return np.where(self.run_length > 0, t_idx - self.run_length + 1, -1)


@dataclass(frozen=True)
class DataSilence:
    """Alarm on runs of missing or suppressed submissions, scored against the series' own history."""

    level: float = field(default=0.01, metadata={"doc": "alarm when P(gap this long | history) < level"})
    min_run: int = field(default=2, metadata={"doc": "never alarm on a gap shorter than this (periods)"})
    prior_missing: float = field(
        default=1.0, metadata={"doc": "Beta prior a on the per-period miss probability"}
    )
    prior_submitted: float = field(
        default=1.0, metadata={"doc": "Beta prior b on the per-period miss probability"}
    )
    suppressed_is_silence: bool = field(
        default=True, metadata={"doc": "count suppressed (*) values as non-submission"}
    )

    name = "data_silence"

    def missing_mask(self, y: np.ndarray, status: np.ndarray | None = None) -> np.ndarray:
        """``(S, T)`` bool non-submission: from ``status`` codes when given, else ``isnan(y)``."""
        if status is None:
            return ~np.isfinite(np.atleast_2d(np.asarray(y, dtype=float)))
        st = np.asarray(status)
        if self.suppressed_is_silence:
            return st != OBSERVED
        return (st != OBSERVED) & (st != SUPPRESSED)

    def score(self, missing: np.ndarray) -> DataSilenceResult:
        """Score an ``(R, T)`` bool non-submission mask."""
        m = np.ascontiguousarray(np.asarray(missing, dtype=bool))
        run, lp, alarm = missing_run_path(
            m,
            float(self.prior_missing),
            float(self.prior_submitted),
            float(np.log(self.level)),
            int(self.min_run),
        )
        return DataSilenceResult(self.name, run, lp, alarm, self.level)

    def run(
        self,
        y: np.ndarray,
        n: np.ndarray | None = None,
        expected_rate: np.ndarray | None = None,
        dispersion: float | np.ndarray | None = None,
        status: np.ndarray | None = None,
    ) -> DataSilenceResult:
        """Run on ``(S, T)`` data (only which periods were submitted matters; ``n``/rate unused)."""
        return self.score(self.missing_mask(y, status))


@dataclass(frozen=True)
class WardDataSilenceResult:
    """Whole-ward data silence: ``ward`` (W,) labels and a :class:`DataSilenceResult` over (W, T)."""

    ward: np.ndarray
    result: DataSilenceResult


def ward_data_silence(
    missing: np.ndarray, ward: np.ndarray, detector: DataSilence | None = None
) -> WardDataSilenceResult:
    """Data silence of whole wards: periods in which *none* of a ward's series was submitted.

    Parameters
    ----------
    missing : (S, T) bool
        Non-submission per series (e.g. :meth:`DataSilence.missing_mask`).
    ward : (S,)
        Ward label of each series.
    detector : DataSilence, optional
        Rule (level, minimum run, prior); default settings.
    """
    det = detector or DataSilence()
    miss = np.asarray(missing, dtype=bool)
    labels, codes = np.unique(np.asarray(ward), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(labels.size))
    submitted = np.add.reduceat((~miss[order]).astype(np.int32), bounds, axis=0) if labels.size else miss[:0]
    return WardDataSilenceResult(labels, det.score(submitted == 0))
