"""Segment costs for change-point search: exact ``-2 x`` maximised log-likelihoods.

Costs are small strategy objects, kept apart from the search (ruptures-style): each names a
``model``, the number of parameters it fits per segment (for the BIC/MBIC penalties) and how it turns
a series into the two cumulative sufficient statistics the compiled search reads. The segment cost
itself is evaluated inside the numba kernel by :func:`segment_cost` from those sums, so every cost is
O(1) per segment.

Costs (``Y``, ``N`` = sums over the segment of the numerator ``y`` and the exposure ``n``; ``L`` =
number of observed periods in the segment). Terms that do not depend on the segmentation
(``log y!``, ``y log n``, binomial coefficients) are dropped consistently, so only differences between
segmentations are meaningful:

* ``poisson`` (counts with exposure, rate ``Y / N`` per unit exposure):
  ``C = -2 [Y log(Y / N) - Y]`` (``0 log 0 = 0``). Sums over a segmentation differ from the full
  Poisson deviance only by constants.
* ``binomial`` (``y`` successes of ``n`` trials, ``p = Y / N``):
  ``C = -2 [Y log p + (N - Y) log(1 - p)]``.
* ``normal`` (mean change of the rate ``x = y / n`` with known variance ``sigma^2``):
  ``C = [sum x^2 - (sum x)^2 / L] / sigma^2``; the kernel receives ``1 / sigma^2`` as the series' cost
  scale.

All three satisfy ``C(a, c) >= C(a, b) + C(b, c)`` (one fitted parameter can never beat two), the
condition under which PELT's pruning is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

#: Integer codes of the costs inside compiled code.
POISSON, BINOMIAL, NORMAL = 0, 1, 2


@dataclass(frozen=True)
class SegmentCost:
    """A segment cost: its name, code in the kernel and parameters fitted per segment.

    Attributes
    ----------
    model:
        Name (``poisson``, ``binomial``, ``normal``).
    code:
        Integer code passed to the compiled search.
    n_params:
        Parameters estimated per segment (``p`` in the penalties ``(p + 1) log n`` and
        ``(p + 2) log n``): 1 for all three costs (a rate, a proportion, a mean with known variance).
    """

    model: str
    code: int
    n_params: int = 1

    def statistics(self, y: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-period sufficient statistics ``(a, b)`` whose segment sums give the cost.

        Parameters
        ----------
        y, n:
            ``(S, T)`` numerator and exposure (already cleaned: finite where observed).

        Returns
        -------
        (a, b):
            ``(S, T)`` arrays: ``(y, n)`` for Poisson and binomial, ``(x, x^2)`` with ``x = y / n``
            centred on the series mean for the normal cost.
        """
        if self.code == NORMAL:
            with np.errstate(invalid="ignore", divide="ignore"):
                x = y / n
            # centring on the series mean leaves every cost unchanged and avoids cancellation
            finite = np.isfinite(x)
            count = finite.sum(axis=1, keepdims=True)
            mean = np.where(finite, x, 0.0).sum(axis=1, keepdims=True) / np.maximum(count, 1)
            x = x - mean
            return x, x * x
        return y, n


PoissonCost = SegmentCost("poisson", POISSON)
BinomialCost = SegmentCost("binomial", BINOMIAL)
NormalMeanCost = SegmentCost("normal", NORMAL)

#: Registry of costs by model name.
COSTS: dict[str, SegmentCost] = {c.model: c for c in (PoissonCost, BinomialCost, NormalMeanCost)}


def cost_factory(model: str) -> SegmentCost:
    """The cost named ``model`` (``poisson``, ``binomial`` or ``normal``)."""
    try:
        return COSTS[model]
    except KeyError:
        raise ValueError(f"unknown change-point cost {model!r}; expected one of {sorted(COSTS)}") from None


@nb.njit(nogil=True, cache=True, inline="always", error_model="numpy")
def _xlogx_over(a: float, b: float) -> float:
    """``a log(a / b)`` with ``0 log 0 = 0``."""
    if a <= 0.0:
        return 0.0
    return a * np.log(a / b)


@nb.njit(nogil=True, cache=True, error_model="numpy")
def segment_cost(code: int, a: float, b: float, length: float) -> float:
    """Unscaled cost of one segment from its sums ``a``, ``b`` and observed length.

    Parameters
    ----------
    code:
        :data:`POISSON`, :data:`BINOMIAL` or :data:`NORMAL`.
    a, b:
        Segment sums of the statistics from :meth:`SegmentCost.statistics`.
    length:
        Number of observed periods in the segment (used by the normal cost only).
    """
    if code == POISSON:
        if a <= 0.0:
            return 0.0
        return -2.0 * (a * np.log(a / b) - a)
    if code == BINOMIAL:
        return -2.0 * (_xlogx_over(a, b) + _xlogx_over(b - a, b))
    # normal mean, unit variance (the kernel multiplies by 1 / sigma^2)
    c = b - a * a / length
    return c if c > 0.0 else 0.0


def segment_cost_numpy(model: str, a: np.ndarray, b: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Vectorised :func:`segment_cost` for arrays of segment sums (reference and reporting)."""
    a, b, length = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float), np.asarray(length, float))
    out = np.zeros(a.shape)
    code = cost_factory(model).code
    with np.errstate(invalid="ignore", divide="ignore"):
        if code == POISSON:
            pos = a > 0
            out[pos] = -2.0 * (a[pos] * np.log(a[pos] / b[pos]) - a[pos])
        elif code == BINOMIAL:
            pos = a > 0
            out[pos] += -2.0 * a[pos] * np.log(a[pos] / b[pos])
            f = b - a
            pos = f > 0
            out[pos] += -2.0 * f[pos] * np.log(f[pos] / b[pos])
        else:
            out = np.maximum(b - a * a / length, 0.0)
    return out
