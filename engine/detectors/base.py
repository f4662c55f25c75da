"""The detector protocol's shared entry point and the array helpers every chart uses.

:class:`PanelDetector` owns ``run(y, n, expected_rate, dispersion)``: it turns the inputs into
``(S, T)`` float arrays (exposure and rate broadcast to the numerator's shape) and hands them to the
chart's own ``_run_checked``. Detectors are frozen dataclasses that inherit from it; their fields
are their settings (this mixin adds none).
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

import numpy as np

ResultT = TypeVar("ResultT")


def check_arrays(
    y: np.ndarray, n: np.ndarray, expected_rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, n, rate)`` as float arrays of the numerator's ``(S, T)`` shape (1-D ``y`` is one series)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n = np.broadcast_to(np.asarray(n, dtype=float), y.shape)
    r = np.broadcast_to(np.asarray(expected_rate, dtype=float), y.shape)
    return y, n, r


def per_series(value: float | np.ndarray, s_count: int) -> np.ndarray:
    """A scalar or ``(S,)`` setting as an ``(S,)`` float array (2-D values are returned as they are)."""
    v = np.asarray(value, dtype=float)
    return np.broadcast_to(v, (s_count,)).astype(float) if v.ndim <= 1 else v


def side_threshold(threshold: float, threshold_down: float | None, direction: str) -> float:
    """The threshold of one side: ``threshold_down`` for the down chart when it is set."""
    return threshold if direction == "up" or threshold_down is None else threshold_down


class PanelDetector(Generic[ResultT]):
    """Mixin giving a detector the protocol's ``run`` (see :mod:`engine.detectors`)."""

    name: ClassVar[str]

    def run(
        self,
        y: np.ndarray,
        n: np.ndarray,
        expected_rate: np.ndarray,
        dispersion: float | np.ndarray | None = None,
    ) -> ResultT:
        """Run on ``(S, T)`` numerator, exposure and baseline rate (dispersion scalar, (S,) or (S, T))."""
        y, n, r = check_arrays(y, n, expected_rate)
        return self._run_checked(y, n, r, dispersion)

    def _run_checked(
        self, y: np.ndarray, n: np.ndarray, rate: np.ndarray, dispersion: float | np.ndarray | None
    ) -> ResultT:  # pragma: no cover - abstract
        raise NotImplementedError
