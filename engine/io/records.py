"""Physical records of a CSV file, counted by a scanner of our own (not by the parser that reads it).

The loader compares these counts with the rows the parser produced, so a row can never vanish
silently: every physical record is accepted, rejected or refused with the whole file.

Rules (RFC 4180 with the leniencies of common exports):

* Line ends are ``\\n`` or ``\\r\\n``; a file with no ``\\n`` at all but with ``\\r`` uses ``\\r`` (old
  Mac exports). In a ``\\n`` file a lone ``\\r`` is part of a value, never a line end.
* A ``"`` at the start of a field opens a quoted field, ``""`` inside it is one quote, and the next
  lone ``"`` closes it. A ``"`` anywhere else is an ordinary character.
* A quoted field may hold line breaks only when it closes cleanly (its closing quote is followed by a
  comma or the end of the line) and its record has the header's number of fields: anything else is a
  stray quote that would swallow the following lines, and the file is refused, naming the line where
  the quote opened. A quote that never closes is refused the same way.
* A record whose fields are all empty (a blank line, or a line of commas no longer than the header)
  is not a row.
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np

#: Scanner outcomes.
OK, UNTERMINATED, UNCLEAN_CLOSE, SPAN_FIELD_COUNT = 0, 1, 2, 3
_NL, _CR, _QUOTE, _COMMA = 10, 13, 34, 44


@dataclass(frozen=True)
class Records:
    """The data records of a CSV file as our scanner sees them.

    Attributes
    ----------
    lines:
        ``(R,)`` int64: physical line (header = 1) where each non-blank data record starts.
    header_fields:
        Fields in the header record.
    multiline:
        Records holding a (clean) quoted line break.
    physical_lines:
        Physical lines in the file (the last one counted even without a line end).
    cr_newline:
        The file's lines end in a lone ``\\r`` (no ``\\n`` anywhere).
    """

    lines: np.ndarray
    header_fields: int
    multiline: int
    physical_lines: int
    cr_newline: bool = False

    @property
    def count(self) -> int:
        """Non-blank data records: what the parser must return, row for row."""
        return int(self.lines.size)


class RecordError(ValueError):
    """A stray quote: ``line`` is where the quoted field opened, ``code`` one of the outcomes above."""

    def __init__(self, code: int, line: int, span_to: int):
        self.code, self.line, self.span_to = code, line, span_to
        if code == UNTERMINATED:
            what = "opens a quoted field that never closes (it runs to the end of the file)"
        elif code == UNCLEAN_CLOSE:
            what = f"opens a quoted field that runs on past its line to line {span_to} and closes mid-field"
        else:
            what = f"opens a quoted field that runs on past its line to line {span_to}, giving a wrong number of fields"
        super().__init__(
            f'line {line}: a \'"\' {what}; a stray quote? remove it, or write a quote inside a value as ""'
        )


@nb.njit(nogil=True, cache=True)
def _count_byte(data: np.ndarray, byte: int) -> int:
    n = 0
    for i in range(data.size):
        if data[i] == byte:
            n += 1
    return n


#: Scanner state carried from one chunk of the file to the next (indices into ``state``).
_LINE, _IN_Q, _FIELD_START, _FIELDS, _CONTENT, _ANY, _START_LINE, _Q_LINE, _Q_SPANS, _MULTI = range(10)
_HEADER_FIELDS, _N_REC, _N_MULTI, _POS = 10, 11, 12, 13


def _new_state() -> np.ndarray:
    state = np.zeros(14, dtype=np.int64)
    state[_LINE] = state[_START_LINE] = 1
    state[_FIELD_START] = 1
    state[_FIELDS] = 1
    state[_HEADER_FIELDS] = -1
    return state


@nb.njit(nogil=True, cache=True)
def _scan(
    data: np.ndarray, stop: int, cr_newline: bool, rec_line: np.ndarray, state: np.ndarray, info: np.ndarray
) -> None:
    """Walk the bytes from ``state[_POS]`` to ``stop`` (or a little past it: ``""`` and CRLF are read
    whole), writing each non-blank data record's start line into ``rec_line``; the position reached
    and every other variable are left in ``state`` for the next chunk. ``stop == data.size`` ends the
    file. ``info`` (int64, 6) receives: outcome, line of the offending quote, line where it stopped,
    header fields, multiline records, physical lines.
    """
    n = data.size
    final = stop >= n
    line = state[_LINE]
    in_q = state[_IN_Q] != 0
    field_start = state[_FIELD_START] != 0
    fields = state[_FIELDS]
    content = state[_CONTENT] != 0
    any_byte = state[_ANY] != 0
    start_line = state[_START_LINE]
    q_line = state[_Q_LINE]
    q_spans = state[_Q_SPANS] != 0
    multi = state[_MULTI] != 0
    header_fields = state[_HEADER_FIELDS]
    n_rec = state[_N_REC]
    n_multi = state[_N_MULTI]
    i = state[_POS]
    while i < stop:
        c = data[i]
        if in_q:
            if c == _QUOTE:
                if i + 1 < n and data[i + 1] == _QUOTE:
                    content = True
                    i += 2
                    continue
                in_q = False
                if q_spans:
                    nx = _NL if i + 1 >= n else data[i + 1]
                    if nx == _CR and (cr_newline or i + 2 >= n or data[i + 2] == _NL):
                        nx = _NL
                    if nx != _COMMA and nx != _NL:
                        info[0], info[1], info[2] = UNCLEAN_CLOSE, q_line, line
                        return
                i += 1
                continue
            if c == _NL or (cr_newline and c == _CR):
                line += 1
                q_spans = True
                multi = True
            content = True
            i += 1
            continue
        any_byte = True
        if c == _QUOTE and field_start:
            in_q = True
            q_line = line
            q_spans = False
            field_start = False
            i += 1
            continue
        if c == _COMMA:
            fields += 1
            field_start = True
            i += 1
            continue
        if c == _CR and not cr_newline and i + 1 < n and data[i + 1] == _NL:
            i += 1  # the CR of a CRLF
            continue
        if c == _NL or (cr_newline and c == _CR):
            if header_fields < 0:
                header_fields = fields
            else:
                if multi and fields != header_fields:
                    info[0], info[1], info[2] = SPAN_FIELD_COUNT, start_line, line
                    return
                if content or fields > header_fields:
                    rec_line[n_rec] = start_line
                    n_rec += 1
                    if multi:
                        n_multi += 1
            line += 1
            start_line = line
            fields = 1
            field_start = True
            content = False
            any_byte = False
            multi = False
            i += 1
            continue
        content = True
        field_start = False
        i += 1
    state[_LINE] = line
    state[_IN_Q] = in_q
    state[_FIELD_START] = field_start
    state[_FIELDS] = fields
    state[_CONTENT] = content
    state[_ANY] = any_byte
    state[_START_LINE] = start_line
    state[_Q_LINE] = q_line
    state[_Q_SPANS] = q_spans
    state[_MULTI] = multi
    state[_HEADER_FIELDS] = header_fields
    state[_N_REC] = n_rec
    state[_N_MULTI] = n_multi
    state[_POS] = i
    if not final:
        return
    if in_q:
        info[0], info[1], info[2] = UNTERMINATED, q_line, line
        return
    physical = line if any_byte else line - 1
    if any_byte:  # a last line without a line end
        if header_fields < 0:
            header_fields = fields
        elif content or fields > header_fields:
            if multi and fields != header_fields:
                info[0], info[1], info[2] = SPAN_FIELD_COUNT, start_line, line
                return
            rec_line[n_rec] = start_line
            n_rec += 1
            if multi:
                n_multi += 1
    state[_N_REC] = n_rec
    info[3] = max(header_fields, 0)
    info[4] = n_multi
    info[5] = physical


#: Bytes scanned per step; pages already scanned are released from memory (a file-backed map
#: would otherwise keep the whole file resident).
CHUNK_BYTES = 1 << 26


def _chunks(n: int, chunk: int) -> range:
    return range(0, n, chunk)


def _release(data: np.ndarray, lo: int, hi: int) -> None:
    """Let the kernel drop the pages of ``data[lo:hi]`` (a memory map) from this process's memory."""
    mm = getattr(data, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise"):
        return
    base = int(getattr(data, "offset", 0))
    start = (base + lo) // mmap.PAGESIZE * mmap.PAGESIZE
    length = base + hi - start
    if length > 0:
        with contextlib.suppress(OSError, ValueError):
            mm.madvise(mmap.MADV_DONTNEED, start, length)


def byte_counts(data: np.ndarray, chunk: int = CHUNK_BYTES) -> tuple[int, int]:
    """Numbers of ``\\n`` and ``\\r`` bytes, read chunk by chunk."""
    nl = cr = 0
    for lo in _chunks(data.size, chunk):
        hi = min(lo + chunk, data.size)
        nl += _count_byte(data[lo:hi], _NL)
        cr += _count_byte(data[lo:hi], _CR)
        _release(data, lo, hi)
    return nl, cr


def line_break_mode(data: np.ndarray) -> bool:
    """True when the file's lines end in a lone ``\\r`` (no ``\\n`` anywhere, at least one ``\\r``)."""
    nl, cr = byte_counts(data)
    return nl == 0 and cr > 0


def scan_records(
    data: np.ndarray,
    cr_newline: bool | None = None,
    chunk: int = CHUNK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> Records:
    """Scan CSV bytes (a uint8 array, e.g. a memory map, without the byte order mark), chunk by chunk.

    ``progress(done, total)`` is called after each chunk (bytes).

    Raises
    ------
    RecordError
        A stray quote (see the module docstring).
    """
    nl, cr = byte_counts(data, chunk)
    if cr_newline is None:
        cr_newline = nl == 0 and cr > 0
    breaks = cr if cr_newline else nl
    rec_line = np.empty(breaks + 2, dtype=np.int64)
    info = np.zeros(6, dtype=np.int64)
    state = _new_state()
    n = data.size
    while True:
        lo = int(state[_POS])
        stop = min(lo + chunk, n)
        _scan(data, stop, cr_newline, rec_line, state, info)
        if info[0] != OK:
            raise RecordError(int(info[0]), int(info[1]), int(info[2]))
        _release(data, lo, min(int(state[_POS]), n))
        if progress is not None:
            progress(min(int(state[_POS]), n), n)
        if stop >= n:
            break
    n_rec = int(state[_N_REC])
    return Records(rec_line[:n_rec].copy(), int(info[3]), int(info[4]), int(info[5]), bool(cr_newline))


def map_file(path: str | Path, offset: int = 0) -> np.ndarray:
    """The file's bytes from ``offset`` as a read-only uint8 memory map (empty array for an empty file)."""
    size = Path(path).stat().st_size
    if size <= offset:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r", offset=offset)
