"""Sequential detectors over ``(S, T)`` panels: CUSUM, GLR, EWMA, silence and data silence.

Detector protocol (what ``engine.arl`` and the scoring pipeline rely on)
-----------------------------------------------------------------------
Every detector is a frozen dataclass whose fields are its settings (each with a documented
default), with a ``name`` and one method::

    result = detector.run(y, n, expected_rate, dispersion=None)

* ``y`` ``(S, T)`` float: numerator per series and period, NaN = not observed;
* ``n`` ``(S, T)`` float (or broadcastable): exposure (bed days, trials; 1.0 without exposure);
* ``expected_rate`` ``(S, T)`` float: in-control rate per unit exposure (a probability for
  proportions) from :func:`engine.baselines.fit_baselines`; NaN = baseline not ready (skipped);
* ``dispersion``: scalar, ``(S,)`` or ``(S, T)``: NB ``alpha`` (counts), beta-binomial ``rho``
  (proportions) or quasi-Poisson ``phi`` (measures), as in :class:`engine.baselines.Baseline`.

The result is a frozen dataclass with at least ``alarm`` (``(S, T)`` bool). Charts return a
:class:`DetectorResult` (``sides``: one :class:`SideResult` per direction, each with ``statistic``,
``threshold``, ``alarm`` and ``onset``); silence detectors return their own result with run lengths
and probabilities. Everything is vectorised over series, so simulating ``R`` in-control replicates
of one chart is one call on an ``(R, T)`` array (:mod:`engine.detectors.simulate`). Output at
period ``t`` depends only on inputs at periods ``<= t`` (truncation tests in ``tests/detectors``).
With ``restart="zero"`` alarms form a renewal process, so ``alarms / periods`` estimates 1/ARL0.

Registry ``DETECTORS`` maps a name to the detector class; construct with keyword settings, e.g.
``DETECTORS["cusum_nb"](direction="both", threshold=4.2)``.
"""

from engine.detectors.cusum import BinomialCusum, NegBinCusum, NormalCusum, PoissonCusum
from engine.detectors.ewma import Ewma
from engine.detectors.glr import GlrNegBin, GlrPoisson
from engine.detectors.result import DetectorResult, SideResult, excursion_mask, first_alarm
from engine.detectors.silence import (
    DataSilence,
    DataSilenceResult,
    Silence,
    SilenceResult,
    WardDataSilenceResult,
    ward_data_silence,
)

DETECTORS: dict[str, type] = {
    "cusum_poisson": PoissonCusum,
    "cusum_nb": NegBinCusum,
    "cusum_binomial": BinomialCusum,
    "cusum_normal": NormalCusum,
    "glr_poisson": GlrPoisson,
    "glr_nb": GlrNegBin,
    "ewma": Ewma,
    "silence": Silence,
    "data_silence": DataSilence,
}

__all__ = [
    "DETECTORS",
    "BinomialCusum",
    "DataSilence",
    "DataSilenceResult",
    "DetectorResult",
    "Ewma",
    "GlrNegBin",
    "GlrPoisson",
    "NegBinCusum",
    "NormalCusum",
    "PoissonCusum",
    "SideResult",
    "Silence",
    "SilenceResult",
    "WardDataSilenceResult",
    "excursion_mask",
    "first_alarm",
    "ward_data_silence",
]
