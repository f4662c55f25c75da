"""Retrospective change points for every series at once: settings, detector and panel helper.

**Retrospective only.** A segmentation uses the whole series it is given, so its change points
depend on data after them. They are for marking segments on charts, dating the onset of a shift an
alarm has already found, and proposing rebase points for the baselines. They must never raise an
alarm: an alarm at period ``t`` may only use data up to ``t``. For onset dating pass ``upto=t`` (the
alarm's period index) so that nothing after the alarm's period is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np

from engine.changepoint.costs import COSTS, cost_factory
from engine.changepoint.kernel import (
    DISPERSION_ESTIMATE,
    DISPERSION_GIVEN,
    DISPERSION_NONE,
    EXCEEDS_TRIALS,
    NEGATIVE,
    segment_many,
)
from engine.changepoint.penalty import PENALTY_CODES, PenaltyKind, penalty_terms
from engine.changepoint.result import ChangePointResult
from engine.panel import distinct_keys

#: Cost used for each indicator family of the catalogue.
FAMILY_COST: dict[str, str] = {"count": "poisson", "proportion": "binomial", "measure": "normal"}


@dataclass(frozen=True)
class ChangePointSettings:
    """Settings of the retrospective change-point search (PELT)."""

    #: Cost for series whose family is not given per series: ``poisson`` (counts with exposure),
    #: ``binomial`` (successes of trials) or ``normal`` (mean of ``y / n``, known variance).
    cost: Literal["poisson", "binomial", "normal"] = field(
        default="poisson", metadata={"doc": "default segment cost: poisson, binomial or normal"}
    )
    #: Penalty: ``mbic`` (R changepoint default: 3 log m per change + log of each segment length),
    #: ``bic`` (2 log m per change) or ``set`` (``penalty_value`` per change).
    penalty: PenaltyKind = field(default="mbic", metadata={"doc": "penalty: mbic, bic or set"})
    #: Penalty per change on the -2 log-likelihood scale when ``penalty = "set"`` (unitless).
    penalty_value: float = field(default=0.0, metadata={"doc": "penalty per change when penalty = set"})
    #: Minimum segment length, in observed periods (6 weeks for weekly data: a one-off spike is not
    #: a regime change).
    min_size: int = field(default=6, metadata={"doc": "minimum segment length in observed periods"})
    #: ``estimate``: divide the Poisson/binomial cost by each series' estimated dispersion
    #: ``phi >= 1`` (quasi-likelihood; equals multiplying the penalty by ``phi``); ``none``: ``phi = 1``.
    dispersion: Literal["estimate", "none"] = field(
        default="estimate", metadata={"doc": "overdispersion of counts/proportions: estimate or none"}
    )
    #: Noise standard deviation of ``y / n`` for the normal cost, in the indicator's units; ``0`` =
    #: estimate per series from first differences.
    sigma: float = field(default=0.0, metadata={"doc": "normal cost noise sd (0 = estimate per series)"})
    #: A change is proposed as a rebase point when the rate ratio after/before is at least this
    #: (or at most its inverse); unitless, > 1.
    rebase_ratio: float = field(
        default=1.5, metadata={"doc": "rate ratio that makes a change a rebase point"}
    )
    #: Same for the normal cost: absolute mean shift in units of ``sigma``.
    rebase_shift_sd: float = field(
        default=1.0, metadata={"doc": "mean shift (in sd) that makes a change a rebase point (normal cost)"}
    )

    def __post_init__(self) -> None:
        cost_factory(self.cost)
        if self.min_size < 1:
            raise ValueError(f"min_size must be >= 1, got {self.min_size}")
        if self.rebase_ratio <= 1.0:
            raise ValueError(f"rebase_ratio must be > 1, got {self.rebase_ratio}")
        if self.sigma < 0 or self.rebase_shift_sd < 0:
            raise ValueError("sigma and rebase_shift_sd must be >= 0")
        penalty_terms(self.penalty, np.ones(1), value=self.penalty_value)  # validates


def _models(family: str | np.ndarray | None, s_count: int, default: str) -> np.ndarray:
    """``(S,)`` cost model names from a single name, per-series names or catalogue families."""
    names = np.broadcast_to(np.asarray(default if family is None else family, dtype=str), (s_count,))
    uniq, inverse = np.unique(names, return_inverse=True)
    mapped = np.array([FAMILY_COST.get(str(u), str(u)) for u in uniq], dtype="<U8")
    for model in mapped:
        cost_factory(model)
    return mapped[inverse.reshape(-1)] if s_count else np.array([], dtype="<U8")


def detect_changepoints(
    y: np.ndarray,
    n: np.ndarray | None = None,
    settings: ChangePointSettings | None = None,
    *,
    family: str | np.ndarray | None = None,
    upto: int | None = None,
    phi: np.ndarray | float | None = None,
) -> ChangePointResult:
    """Optimal penalised segmentation (exact PELT) of every series in one compiled call.

    Parameters
    ----------
    y:
        ``(S, T)`` numerator (counts, successes, or measure values); ``NaN`` = not observed.
    n:
        ``(S, T)`` exposure (e.g. occupied bed days) or trials; ``None`` = 1 everywhere. Periods with
        non-finite or non-positive ``n`` are treated as not observed.
    settings:
        :class:`ChangePointSettings` (defaults if omitted).
    family:
        Cost per series: one name or an ``(S,)`` array of cost names (``poisson``, ``binomial``,
        ``normal``) or catalogue families (``count``, ``proportion``, ``measure``); default
        ``settings.cost``.
    upto:
        Index of the last period to use (inclusive); later columns are ignored and the result has
        ``upto + 1`` periods. Use it for onset dating so nothing after the alarm period is read.
    phi:
        Dispersion(s) to use instead of ``settings.dispersion`` (scalar or ``(S,)``); ignored for the
        normal cost.

    Returns
    -------
    ChangePointResult

    Raises
    ------
    ValueError
        Negative counts, or binomial successes above the trials.
    """
    settings = settings or ChangePointSettings()
    y, n = _series_arrays(y, n, upto)
    s_count = y.shape[0]
    models = _models(family, s_count, settings.cost)
    codes = np.zeros(s_count, dtype=np.int64)
    for model in np.unique(models):  # at most three cost models
        codes[models == model] = COSTS[model].code
    if phi is not None:
        mode = DISPERSION_GIVEN
        phi_given = np.ascontiguousarray(np.broadcast_to(np.asarray(phi, dtype=float), (s_count,)))
    else:
        mode = DISPERSION_ESTIMATE if settings.dispersion == "estimate" else DISPERSION_NONE
        phi_given = np.ones(s_count)
    seg = _Segmentation(
        *segment_many(
            y,
            n,
            codes,
            mode,
            phi_given,
            float(settings.sigma),
            PENALTY_CODES[settings.penalty],
            float(settings.penalty_value),
            int(settings.min_size),
        )
    )
    if np.any(seg.error == NEGATIVE):
        raise ValueError("counts and successes must be >= 0")
    if np.any(seg.error == EXCEEDS_TRIALS):
        raise ValueError("binomial successes exceed trials (y > n)")
    return _assemble(seg, models, settings)


def _series_arrays(y: np.ndarray, n: np.ndarray | None, upto: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous float ``(S, T)`` numerator and exposure (1 when None), cut after column ``upto``."""
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[None, :]
    n = np.ones_like(y) if n is None else np.broadcast_to(np.asarray(n, dtype=float), y.shape)
    if upto is not None:
        if not 0 <= upto < y.shape[1]:
            raise ValueError(f"upto must index a period in [0, {y.shape[1] - 1}], got {upto}")
        y, n = y[:, : upto + 1], n[:, : upto + 1]
    return np.ascontiguousarray(y), np.ascontiguousarray(n)


class _Segmentation(NamedTuple):
    """The arrays :func:`engine.changepoint.kernel.segment_many` returns, in its order."""

    starts: np.ndarray
    segment_id: np.ndarray
    segment_rate: np.ndarray
    effect: np.ndarray
    objective: np.ndarray
    n_changes: np.ndarray
    n_obs: np.ndarray
    phi: np.ndarray
    sigma: np.ndarray
    beta: np.ndarray
    lam: np.ndarray
    error: np.ndarray


def _assemble(seg: _Segmentation, models: np.ndarray, settings: ChangePointSettings) -> ChangePointResult:
    """Flat segment lists, effects and rebase proposals (vectorised over the few change points).

    ``seg.effect`` is the kernel's ``(S, T)`` all-``NaN`` array, filled here at the change points.
    """
    starts, segment_rate, effect, n_changes, sigma = (
        seg.starts, seg.segment_rate, seg.effect, seg.n_changes, seg.sigma
    )  # fmt: skip
    s_count, t_count = starts.shape
    indptr = np.zeros(s_count + 1, dtype=np.int64)
    np.cumsum(n_changes + 1, out=indptr[1:])
    rows, cols = np.nonzero(starts)  # row-major: changes of series 0 first, in time order
    j = np.arange(rows.size) + rows  # flat index of the segment a change ends
    ends = np.full(int(indptr[-1]), t_count, dtype=np.int64)
    ends[j] = cols
    seg_start = np.zeros(int(indptr[-1]), dtype=np.int64)
    seg_start[j + 1] = cols
    rates = segment_rate[np.repeat(np.arange(s_count), n_changes + 1), seg_start] if t_count else np.zeros(0)
    before, after = rates[j], rates[j + 1]
    normal = models[rows] == "normal"
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = after / before
        shift = (after - before) / sigma[rows]
        relevant = np.where(
            normal,
            np.abs(shift) >= settings.rebase_shift_sd,
            np.abs(np.log(ratio)) >= np.log(settings.rebase_ratio),
        )
    effect[rows, cols] = np.where(normal, shift, ratio)
    rebase = np.zeros((s_count, t_count), dtype=bool)
    rebase[rows, cols] = relevant
    return ChangePointResult(
        starts=starts,
        segment_id=seg.segment_id,
        segment_rate=segment_rate,
        effect=effect,
        rebase=rebase,
        n_changes=n_changes,
        objective=seg.objective,
        model=models,
        n_obs=seg.n_obs,
        beta=seg.beta,
        lam=seg.lam,
        phi=seg.phi,
        sigma=sigma,
        indptr=indptr,
        ends=ends,
        rates=rates,
        last_period=t_count - 1,
    )


class ChangePointDetector:
    """Estimator wrapper: ``ChangePointDetector(settings=...).fit(y, n, family=...)``.

    Learned attributes: ``result_`` (:class:`ChangePointResult`).
    """

    def __init__(self, *, settings: ChangePointSettings | None = None) -> None:
        self.settings = settings

    def fit(
        self,
        y: np.ndarray,
        n: np.ndarray | None = None,
        *,
        family: str | np.ndarray | None = None,
        upto: int | None = None,
    ) -> ChangePointDetector:
        """Segment every series (see :func:`detect_changepoints`); returns ``self``."""
        self.result_ = detect_changepoints(y, n, self.settings, family=family, upto=upto)
        return self


def detect_panel(panel, settings: ChangePointSettings | None = None, upto: int | None = None, catalogue=None):
    """Change points of every series of an :class:`engine.panel.Panel`, cost chosen by family.

    Parameters
    ----------
    panel:
        The dense panel (``y`` is ``NaN`` where not observed).
    settings:
        :class:`ChangePointSettings`.
    upto:
        Last period index to use (inclusive), see :func:`detect_changepoints`.
    catalogue:
        Indicator catalogue (default :data:`signals.CATALOGUE`); indicators not in it use
        ``settings.cost``.
    """
    if catalogue is None:
        from signals import CATALOGUE

        catalogue = CATALOGUE
    settings = settings or ChangePointSettings()
    indicators, of_indicator = distinct_keys(np.asarray(panel.indicator, dtype=str))
    families = np.array(
        [catalogue[k].family if k in catalogue else settings.cost for k in indicators], dtype=str
    )
    family = families[of_indicator]
    return detect_changepoints(panel.y, panel.n, settings, family=family, upto=upto)
