"""Inputs for the data-silence kernel tests: run lengths of a gap mask and partial peer results."""

from __future__ import annotations

import numpy as np

from engine.detectors.silence import PeerSilenceResult


def run_lengths(gaps: np.ndarray, dtype: type = np.int64) -> np.ndarray:
    """``(S, T)`` length of the current run of ``True`` in each row of ``gaps`` (0 where False)."""
    run = np.zeros(gaps.shape, dtype=dtype)
    for i in range(gaps.shape[0]):
        c = 0
        for j in range(gaps.shape[1]):
            c = c + 1 if gaps[i, j] else 0
            run[i, j] = c
    return run


def peer_result(**arrays: np.ndarray) -> PeerSilenceResult:
    """A peer-silence result with the given arrays and every other field None (for kernels that
    read only those)."""
    return PeerSilenceResult(**{**dict.fromkeys(PeerSilenceResult.__dataclass_fields__), **arrays})
