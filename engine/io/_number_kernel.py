"""Compiled parsing of short decimal texts straight from Arrow string views.

A polars ``String`` column is an Arrow string-view array: 16 bytes per value, and a value of at most
12 bytes is stored inside its view (bytes 4-15, after the little-endian int32 length). National
numerators and denominators are short plain decimals (``0``, ``12``, ``126.2``), so they are parsed
here without touching the text buffers.

Exactness: a text ``[-]digits[.digits]`` of at most 12 bytes has an integer mantissa ``m < 10**12``
(exact in float64) and at most 11 fraction digits (``10**f`` exact), so ``m / 10**f`` is one
correctly rounded IEEE division: the correctly rounded value of the decimal, which is what the
polars ``Float64`` cast returns. Every other text (signs ``+``, exponents, blanks, ``*``, words,
longer texts) is flagged for the general parser.
"""

from __future__ import annotations

import numba as nb
import numpy as np

POW10 = np.array([10.0**i for i in range(12)])


@nb.njit(nogil=True, cache=True)
def parse_views(views: np.ndarray, pow10: np.ndarray, out: np.ndarray, slow: np.ndarray) -> None:
    """Parse ``(M, 16)`` uint8 string views into ``out`` (float64); ``slow[r]``: not handled here.

    ``out[r]`` is NaN where ``slow[r]``. Views of null values are parsed like any other (the caller
    masks them).
    """
    for r in range(views.shape[0]):
        length = np.int64(views[r, 0]) | (np.int64(views[r, 1]) << 8) | (np.int64(views[r, 2]) << 16)
        length |= np.int64(views[r, 3]) << 24
        out[r] = np.nan
        slow[r] = True
        if length < 1 or length > 12:
            continue
        pos = 4
        end = 4 + length
        neg = views[r, pos] == 45  # '-'
        if neg:
            pos += 1
        mant = np.int64(0)
        digits = 0
        frac = 0
        dot = False
        ok = True
        while pos < end:
            c = views[r, pos]
            if 48 <= c <= 57:
                mant = mant * 10 + (c - 48)
                digits += 1
                if dot:
                    frac += 1
            elif c == 46 and not dot:  # '.'
                dot = True
            else:
                ok = False
                break
            pos += 1
        if not ok or digits == 0:
            continue
        v = np.float64(mant) / pow10[frac]
        out[r] = -v if neg else v
        slow[r] = False
