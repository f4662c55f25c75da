"""Retrospective change points: exact PELT with Poisson-with-exposure, binomial and normal costs.

Never used to raise an alarm (see :mod:`engine.changepoint.detect`): results mark segments on
charts, date the onset of shifts already alarmed on (with ``upto``) and propose rebase points.
"""

from engine.changepoint.calibrate import PenaltyCalibration, calibrate_penalty, simulate_in_control
from engine.changepoint.costs import (
    COSTS,
    BinomialCost,
    NormalMeanCost,
    PoissonCost,
    SegmentCost,
    cost_factory,
)
from engine.changepoint.detect import (
    FAMILY_COST,
    ChangePointDetector,
    ChangePointSettings,
    detect_changepoints,
    detect_panel,
)
from engine.changepoint.dispersion import estimate_dispersion
from engine.changepoint.penalty import penalty_terms
from engine.changepoint.result import ChangePointResult

__all__ = [
    "COSTS",
    "FAMILY_COST",
    "BinomialCost",
    "ChangePointDetector",
    "ChangePointResult",
    "ChangePointSettings",
    "NormalMeanCost",
    "PenaltyCalibration",
    "PoissonCost",
    "SegmentCost",
    "calibrate_penalty",
    "cost_factory",
    "detect_changepoints",
    "detect_panel",
    "estimate_dispersion",
    "penalty_terms",
    "simulate_in_control",
]
