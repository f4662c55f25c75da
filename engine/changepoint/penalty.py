"""Penalties for penalised change-point search, as defined in the R ``changepoint`` package.

The search minimises, over segmentations of the ``m`` observed periods of a series into segments
``1..k+1`` of ``m_i`` observed periods each,

    ``sum_i [ C_i / phi + lambda * log(m_i) ] + beta * k``

with ``C_i`` the segment cost (``-2 x`` maximised log-likelihood), ``phi`` the series' dispersion (1
unless estimated), ``beta`` the penalty per change and ``lambda`` the weight of the segment-length term.
With ``p`` parameters per segment (1 for every cost here), following ``changepoint``'s
``penalty_decision.R`` and its C code:

* ``bic`` (= SIC): ``beta = (p + 1) log m``, ``lambda = 0``;
* ``mbic`` (Zhang & Siegmund 2007 modified BIC, ``changepoint``'s default): ``beta = (p + 2) log m``
  and ``lambda = 1`` (``log m_i`` added to each segment's cost);
* ``set``: ``beta`` given by the user (on the ``-2 log-likelihood`` scale), ``lambda = 0`` (e.g. from
  :func:`engine.changepoint.calibrate.calibrate_penalty`).

Dividing the costs by ``phi`` is exactly the same as multiplying every penalty term (``beta`` and
``lambda``) by ``phi``: the quasi-likelihood view of over-dispersed counts.
"""

from __future__ import annotations

from typing import Literal

import numba as nb
import numpy as np

PenaltyKind = Literal["bic", "mbic", "set"]

#: Integer codes of the penalties inside compiled code.
PENALTY_CODES: dict[str, int] = {"bic": 0, "mbic": 1, "set": 2}


@nb.njit(nogil=True, cache=True, error_model="numpy")
def penalty_row(kind: int, m: int, n_params: int, value: float) -> tuple[float, float]:
    """``(beta, lam)`` for one series with ``m`` observed periods (codes of :data:`PENALTY_CODES`)."""
    log_m = np.log(max(m, 1))
    if kind == 0:
        return (n_params + 1) * log_m, 0.0
    if kind == 1:
        return (n_params + 2) * log_m, 1.0
    return value, 0.0


def penalty_terms(
    kind: PenaltyKind, n_obs: np.ndarray, n_params: int = 1, value: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-series penalty per change ``beta`` and segment-length weight ``lambda``.

    Parameters
    ----------
    kind:
        ``bic``, ``mbic`` or ``set``.
    n_obs:
        ``(S,)`` number of observed periods ``m`` of each series (the ``n`` of the formulas).
    n_params:
        Parameters fitted per segment (``p``).
    value:
        ``beta`` for ``kind == "set"`` (ignored otherwise); must be ``>= 0``.

    Returns
    -------
    (beta, lam):
        ``(S,)`` float arrays.
    """
    m = np.asarray(n_obs, dtype=float)
    log_m = np.log(np.maximum(m, 1.0))
    if kind == "bic":
        return (n_params + 1) * log_m, np.zeros_like(m)
    if kind == "mbic":
        return (n_params + 2) * log_m, np.ones_like(m)
    if kind == "set":
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"a set penalty must be finite and >= 0, got {value!r}")
        return np.full_like(m, float(value)), np.zeros_like(m)
    raise ValueError(f"unknown penalty {kind!r}; expected 'bic', 'mbic' or 'set'")
