"""Run-length (ARL) calculation and threshold calibration for wardwatch's detectors.

Exact where possible — closed form (Shewhart), Nyström integral equations (normal CUSUM, EWMA),
Markov chains (Brook–Evans / Lucas–Saccucci discretisations; exact rational-lattice chains for
Poisson, Bernoulli and binomial CUSUMs) — and vectorised simulation otherwise (negative-binomial
CUSUM, any detector with an (R, T) alarm array). Run lengths are in periods of the chart.

Modules: ``shewhart``, ``normal_cusum``, ``ewma``, ``lattice`` (count CUSUMs), ``negbin``,
``simulation``, ``calibrate``, ``budget``, ``spec`` (one dispatcher for the CLI), ``markov``,
``kernels`` (compiled reference recursions), ``results`` (dataclasses).
"""

from engine.arl.budget import (
    arl0_for_expected_false_alarms,
    arl0_for_false_alarm_probability,
    arl0_for_familywise_probability,
    false_alarm_probability_geometric,
    per_chart_probability,
)
from engine.arl.calibrate import (
    calibrate_threshold,
    calibrate_threshold_simulated,
    count_cusum_h,
    ewma_L,
    normal_cusum_h,
    shewhart_limit,
)
from engine.arl.ewma import ewma_arl, ewma_false_alarm_probability
from engine.arl.lattice import (
    binomial_cusum_arl,
    binomial_reference_value,
    count_cusum_arl,
    count_cusum_false_alarm_probability,
    poisson_cusum_arl,
    poisson_reference_value,
    two_sided_count_cusum_arl,
)
from engine.arl.negbin import nb_cusum_arl_discretised, nb_cusum_arl_simulated, nb_llr_increment
from engine.arl.normal_cusum import normal_cusum_arl, normal_cusum_false_alarm_probability
from engine.arl.results import ArlResult, ArlSettings, CalibrationResult
from engine.arl.shewhart import shewhart_arl, shewhart_false_alarm_probability
from engine.arl.simulation import RunLengthSample, simulate_false_alarm_probability, simulate_run_length
from engine.arl.spec import ChartSpec, SpecError, chart_arl, chart_calibrate

__all__ = [
    "ArlResult",
    "ArlSettings",
    "CalibrationResult",
    "ChartSpec",
    "RunLengthSample",
    "SpecError",
    "arl0_for_expected_false_alarms",
    "arl0_for_false_alarm_probability",
    "arl0_for_familywise_probability",
    "binomial_cusum_arl",
    "binomial_reference_value",
    "calibrate_threshold",
    "calibrate_threshold_simulated",
    "chart_arl",
    "chart_calibrate",
    "count_cusum_arl",
    "count_cusum_false_alarm_probability",
    "count_cusum_h",
    "ewma_L",
    "ewma_arl",
    "ewma_false_alarm_probability",
    "false_alarm_probability_geometric",
    "nb_cusum_arl_discretised",
    "nb_cusum_arl_simulated",
    "nb_llr_increment",
    "normal_cusum_arl",
    "normal_cusum_false_alarm_probability",
    "normal_cusum_h",
    "per_chart_probability",
    "poisson_cusum_arl",
    "poisson_reference_value",
    "shewhart_arl",
    "shewhart_false_alarm_probability",
    "shewhart_limit",
    "simulate_false_alarm_probability",
    "simulate_run_length",
    "two_sided_count_cusum_arl",
]
