"""Zero-copy access to the Arrow string views of a polars ``String`` column.

Each value has a 16-byte view: a little-endian int32 byte length, then (values of at most 12 bytes)
the bytes themselves, else a prefix and the location of the bytes in a data buffer. Reading the
views directly gives lengths and short values without materialising anything per row.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import polars as pl
import pyarrow as pa


def string_views(col: pl.Series) -> list[np.ndarray] | None:
    """The ``(M, 16)`` uint8 views of each chunk of a String column (read-only, zero-copy).

    Views of null values hold anything; ``None`` when a chunk is not exported as string views.
    """
    out = []
    for chunk in col.get_chunks():
        a = chunk.to_arrow(compat_level=pl.CompatLevel.newest())
        if a.type != pa.string_view():
            return None
        m = len(a)
        if m:
            buf = a.buffers()[1]
            out.append(
                np.frombuffer(buf, dtype=np.uint8, count=(a.offset + m) * 16).reshape(-1, 16)[a.offset :]
            )
    return out


def max_byte_length(col: pl.Series) -> int:
    """An upper bound of the byte length of a String column's values (exact without nulls)."""
    views = string_views(col)
    if views is None:
        return int(cast(int | None, col.str.len_bytes().max()) or 0)
    return max((int(v[:, :4].view("<i4").max()) for v in views), default=0)
