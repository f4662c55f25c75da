"""Reading one user file (CSV or Parquet) into a frame of raw values, with physical line numbers.

The file-level checks that refuse a whole file live here: not CSV or Parquet, not UTF-8 (a byte order
mark is fine), duplicate column names, missing required columns, patient-identifiable columns.

Every CSV value is read as text (``infer_schema=False``) so that nothing is silently coerced; the
readers parse afterwards and report every cell that does not parse. Parquet columns keep their types
(a typed ``Date`` or ``Float64`` column needs no parsing, which keeps national files fast).

Line numbers: in CSV the header is line 1 and the first data row is line 2, counting physical lines
(a quoted value that spans lines moves the following rows down). In Parquet ``line`` is the 1-based
row number. Blank lines are not rows and are skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from engine.io.errors import FatalInputError
from engine.io.parse import distinct_codes
from engine.io.privacy import is_identifier_column, nhs_number_in_text_mask, normalise_name
from engine.io.progress import Progress
from engine.io.records import RecordError, Records, line_break_mode, map_file, scan_records
from engine.io.views import max_byte_length

LINE = "_line"  # physical line number column added to every raw frame
BAD_FIELDS = "_bad_fields"  # non-null when a CSV row has more fields than the header

_BOM = b"\xef\xbb\xbf"
_HEAD_BYTES = 65536
_CHUNK_BYTES = 1 << 24  # 16 MB: the UTF-8 check reads the file in chunks of this size
_LONE_CR = "\ue000"  # private-use stand-in for a lone CR while the csv module reads a row
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before any parsing.

    Attributes
    ----------
    file:
        The path as given (used in every rejection).
    kind:
        ``csv`` or ``parquet``.
    frame:
        One row per data row: the file's columns under normalised names (lower case, ``_``), plus
        ``_line`` (Int64, physical line or Parquet row number) and, for CSV, ``_bad_fields`` (String:
        the surplus fields of a row longer than the header, else null).
    original_names:
        Normalised name -> name as written in the file.
    """

    file: str
    kind: str
    frame: pl.DataFrame
    original_names: dict[str, str]


def read_table(
    path: str | Path,
    required: Iterable[str] = (),
    *,
    free_text: Iterable[str] = (),
    categorical: bool = False,
    only: Iterable[str] | None = None,
) -> RawTable:
    """Read a CSV or Parquet file, refusing it (``FatalInputError``) when it cannot be used at all.

    Parameters
    ----------
    path:
        The file.
    required:
        Normalised column names that must be present.
    free_text:
        Columns also searched for NHS numbers written inside text (event notes).
    categorical:
        Read CSV columns as Categorical (a 4-byte code per value instead of a 16-byte string view:
        large observation files, whose values repeat, then fit in a fraction of the memory). An
        empty field reads as null rather than ``""``; both mean empty everywhere.
    only:
        Normalised names of the only columns kept (an export's other columns, free text included,
        are dropped before any value is checked or returned; Parquet reads only these columns).
        Every column *name* is still checked for patient identifiers.
    """
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise FatalInputError(file, "file not found")
    with p.open("rb") as fh:
        head = fh.read(4)
    keep = None if only is None else set(only)
    if head == _PARQUET_MAGIC:
        table = _read_parquet(p, file, keep)
    else:
        if p.suffix.lower() in {".xlsx", ".xls", ".xlsm", ".ods", ".json", ".zip", ".gz"} or head.startswith(
            b"PK\x03\x04"
        ):
            raise FatalInputError(file, "not a CSV or Parquet file (save spreadsheets as CSV UTF-8)")
        table = _read_csv(p, file, categorical)
    if keep is not None:  # the names of the columns not kept are still checked (_check_privacy)
        table = _select(table, keep)
    check_columns(table, required)
    _check_privacy(table, free_text)
    return table


def _read_parquet(p: Path, file: str, keep: set[str] | None = None) -> RawTable:
    all_names: list[str] | None = None
    try:
        if keep is None:
            frame = pl.read_parquet(p)
        else:  # only the kept columns are read; every name is kept for the identifier check
            all_names = list(pl.read_parquet_schema(p))
            normed = _normalise_header(file, all_names)
            frame = pl.read_parquet(
                p, columns=[o for n, o in zip(normed, all_names, strict=True) if n in keep]
            )
    except FatalInputError:
        raise
    except Exception as exc:  # corrupt file, invalid UTF-8 in a text column, dates beyond year 9999
        detail = " ".join(str(exc).split())[:120]
        raise FatalInputError(
            file, f"not a readable Parquet file ({type(exc).__name__}: {detail}); re-export it"
        ) from None
    names = _normalise_header(file, frame.columns)
    frame = _plain_parquet_columns(frame, file)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE))
    original = dict(zip(names, [str(c) for c in frame.columns], strict=False))
    if all_names is not None:  # every column's name, read or not (as for CSV)
        original = dict(zip(_normalise_header(file, all_names), all_names, strict=True))
    return RawTable(file, "parquet", frame, original)


def _select(table: RawTable, keep: set[str]) -> RawTable:
    """The table with only the ``keep`` columns (and the bookkeeping columns, which start with ``_``)."""
    cols = [c for c in table.frame.columns if c in keep or c.startswith("_")]
    return RawTable(table.file, table.kind, table.frame.select(cols), table.original_names)


def _plain_parquet_columns(frame: pl.DataFrame, file: str) -> pl.DataFrame:
    """Parquet columns as the readers expect them: text, numbers, booleans or dates.

    Categorical text becomes text, decimals floats, binary text is decoded (refused when it is not
    UTF-8), timestamps become dates (refused when out of range); nested columns (lists, structs)
    and other types are refused, naming the column.
    """
    out = []
    for name in frame.columns:
        col = frame[name]
        dtype = col.dtype
        try:
            if dtype in (pl.Categorical, pl.Enum) or isinstance(dtype, pl.Categorical | pl.Enum):
                col = col.cast(pl.String)
            elif isinstance(dtype, pl.Decimal):
                col = col.cast(pl.Float64)
            elif dtype == pl.Binary:
                col = col.cast(pl.String, strict=True)
            elif isinstance(dtype, pl.Datetime):
                col = col.dt.date()
            elif not (dtype.is_numeric() or dtype in (pl.String, pl.Boolean, pl.Date, pl.Null)):
                raise FatalInputError(
                    file,
                    f"column '{name}' is of Parquet type {dtype}, which wardwatch cannot read; write it as "
                    "text, a number or a date (one value per cell)",
                )
        except pl.exceptions.PolarsError as exc:
            what = (
                "text that is not UTF-8"
                if dtype == pl.Binary
                else f"values wardwatch cannot read ({type(exc).__name__})"
            )
            raise FatalInputError(file, f"column '{name}' holds {what}; fix the export") from None
        out.append(col)
    return pl.DataFrame(out)


def _read_csv(p: Path, file: str, categorical: bool = False) -> RawTable:
    """Read a CSV file without holding a second copy of it: checked in chunks, parsed from the file.

    The physical records are counted by :mod:`engine.io.records` and compared with the rows the
    parser returns; they must agree row for row, and each row gets its record's line number.
    """
    with p.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    bom = head.startswith(_BOM)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        raise FatalInputError(file, "the file is UTF-16 text; save it as 'CSV UTF-8' (comma-separated)")
    if b"\x00" in head:
        raise FatalInputError(file, "not a CSV or Parquet file (it contains binary data)")
    progress = Progress(file, p.stat().st_size)
    _check_utf8(p, file, progress)
    data = map_file(p, offset=len(_BOM) if bom else 0)
    if not head[len(_BOM) if bom else 0 :].strip() and data.size <= _HEAD_BYTES:
        raise FatalInputError(file, "the file is empty (no header row)")
    cr_newline = line_break_mode(data)
    try:
        records = scan_records(
            data, cr_newline, progress=lambda done, total: progress.update("scanning", done, total)
        )
    except RecordError as exc:
        raise FatalInputError(file, str(exc)) from None
    cr_newline = records.cr_newline
    head_text = head[len(_BOM) if bom else 0 :].decode("utf-8", errors="replace")
    first_line = head_text.split("\r" if cr_newline else "\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first_line]), [])
    names = _normalise_header(file, header)
    n_cols = len(names)
    source: Path | io.BytesIO = io.BytesIO(data.tobytes().replace(b"\r", b"\n")) if cr_newline else p
    del data
    progress.note(f"parsing {records.count:,} records")
    try:
        if categorical:  # positional schema: the header row is skipped, its names were read above
            frame = pl.read_csv(
                source,
                has_header=False,
                skip_rows=1,
                schema=dict.fromkeys(_placeholder_names(n_cols), pl.Categorical()),
                empty_string_is_null=False,
                truncate_ragged_lines=False,
            )
        else:
            frame = pl.read_csv(
                source,
                has_header=True,
                infer_schema=False,
                empty_string_is_null=False,
                truncate_ragged_lines=False,
            )
    except pl.exceptions.NoDataError:
        frame = pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    except pl.exceptions.PolarsError:
        # Some row has more fields than the header (or a quote polars will not take): slow path
        # (standard-library parser) that keeps every row and marks the long ones, so they are
        # rejected rather than truncated.
        return _read_csv_ragged(p, file, names, header, records, cr_newline)
    if frame.width != n_cols:  # pragma: no cover - defensive: header parsed differently
        return _read_csv_ragged(p, file, names, header, records, cr_newline)
    frame.columns = names
    frame = _drop_blank(frame.with_columns(pl.lit(None, pl.String).alias(BAD_FIELDS)), names)
    return RawTable(file, "csv", _with_lines(frame, records, file), dict(zip(names, header, strict=True)))


def _placeholder_names(n: int) -> list[str]:
    """Distinct column names for a read with an explicit schema (the real names are set after)."""
    return [f"_c{i}" for i in range(n)]


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte order mark: most odd (or even) bytes of the first lines are zero."""
    sample = head[:4096]
    if len(sample) < 8:
        return False
    return sample[1::2].count(0) > 0.8 * (len(sample) // 2) or sample[0::2].count(0) > 0.8 * (
        len(sample) // 2
    )


def _check_utf8(p: Path, file: str, progress: Progress | None = None) -> None:
    """Refuse a file that is not UTF-8, naming the line of the first bad byte (read in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines_before = done = 0
    with p.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK_BYTES)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line = lines_before + chunk[: max(exc.start, 0)].count(b"\n") + 1
                raise FatalInputError(
                    file, f"not UTF-8 (first bad byte on line {line}); save the file as 'CSV UTF-8'"
                ) from None
            if not chunk:
                return
            lines_before += chunk.count(b"\n")
            done += len(chunk)
            if progress is not None:
                progress.update("checking", done)


def _with_lines(frame: pl.DataFrame, records: Records, file: str) -> pl.DataFrame:
    """Add each row's physical line; the parser's rows and our own count of records must agree."""
    if frame.height != records.count:
        raise RuntimeError(
            f"{file}: the CSV parser returned {frame.height:,} rows but the file holds "
            f"{records.count:,} records; please report this with the file"
        )
    return frame.with_columns(pl.Series(LINE, records.lines, dtype=pl.Int64))


def _read_csv_ragged(
    p: Path, file: str, names: list[str], header: list[str], records: Records, cr_newline: bool
) -> RawTable:
    raw = p.read_bytes()
    text = raw.decode("utf-8").removeprefix("\ufeff")
    del raw
    if cr_newline:
        text = text.replace("\r", "\n")
    else:  # a lone CR is part of a value: hide it from the csv module, which would end the line there
        text = text.replace("\r\n", "\n").replace("\r", _LONE_CR)
    csv.field_size_limit(2**31 - 1)  # a value as long as the file's own is a value, not an error
    reader = csv.reader(io.StringIO(text, newline=""))
    del text
    next(reader, None)
    n = len(names)
    cols: list[list[str]] = [[] for _ in range(n)]
    bad: list[str | None] = []
    for row in reader:
        if _LONE_CR in "".join(row):
            row = [v.replace(_LONE_CR, "\r") for v in row]
        padded = row + [""] * (n - len(row))
        for j in range(n):
            cols[j].append(padded[j])
        bad.append(",".join(row[n:]) if len(row) > n else None)
    frame = pl.DataFrame(
        {**{name: pl.Series(name, c, dtype=pl.String) for name, c in zip(names, cols, strict=True)}},
        schema=dict.fromkeys(names, pl.String),
    ).with_columns(pl.Series(BAD_FIELDS, bad, dtype=pl.String))
    frame = _drop_blank(frame, names)
    return RawTable(file, "csv", _with_lines(frame, records, file), dict(zip(names, header, strict=True)))


def _drop_blank(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Remove blank lines (every field empty; a line of spaces is a row, and is rejected): not rows."""
    if frame.height == 0:
        return frame
    blank = pl.all_horizontal([(pl.col(c) == "").fill_null(True) for c in names])
    if BAD_FIELDS in frame.columns:
        blank = blank & pl.col(BAD_FIELDS).is_null()
    return frame.filter(~blank)


def _normalise_header(file: str, header: Iterable[object]) -> list[str]:
    names = [normalise_name(str(h)) for h in header]
    seen: set[str] = set()
    for raw, name in zip(header, names, strict=True):
        if not name:
            raise FatalInputError(file, "a column has an empty name in the header row")
        if name in seen:
            raise FatalInputError(file, f"column {raw!s} appears twice in the header row")
        seen.add(name)
    return names


def check_columns(table: RawTable, required: Iterable[str]) -> None:
    """Refuse the file when a required (normalised) column is missing."""
    missing = [c for c in required if c not in table.frame.columns]
    if not missing:
        return
    hint = ""
    cols = [c for c in table.frame.columns if not c.startswith("_")]
    original = table.original_names.get(cols[0], "") if len(cols) == 1 else ""
    if table.kind == "csv" and any(s in original for s in (";", "\t", "|")):
        hint = " (the file seems to use ';' or tabs: it must be comma-separated)"
    raise FatalInputError(
        table.file,
        f"missing required column(s) {', '.join(missing)}{hint}; found: {', '.join(cols) or 'none'}",
    )


def _check_privacy(table: RawTable, free_text: Iterable[str]) -> None:
    """Refuse identifier-named columns and NHS numbers in any column (whole values or inside text)."""
    free_text = tuple(free_text)
    # every column's name, read or not (``original_names`` keeps the columns ``only=`` dropped)
    for name in (*table.original_names, *table.frame.columns):
        if not name.startswith("_") and is_identifier_column(name):
            raise FatalInputError(
                table.file,
                f"column '{table.original_names.get(name, name)}' looks like a patient identifier; "
                "wardwatch holds only aggregate ward data: remove the column",
            )
    for name in table.frame.columns:
        if name.startswith("_"):
            continue
        original = table.original_names.get(name, name)
        col = table.frame[name]
        if col.dtype == pl.Categorical:
            values, codes = distinct_codes(col)
            if not _may_hold_nhs_numbers(values):
                continue
            hits = nhs_number_in_text_mask(values)
            if not hits.any():
                continue
            mask = np.append(hits, False)[codes]
        else:
            if not _may_hold_nhs_numbers(col):
                continue
            # Most columns repeat few values: test the distinct values first, rows only on a hit.
            if not nhs_number_in_text_mask(_distinct(col)).any():
                continue
            mask = nhs_number_in_text_mask(col)
        if mask.any():
            line = int(table.frame[LINE][int(np.argmax(mask))])
            where = (
                "contains an NHS number in its text"
                if name in free_text
                else "holds values that look like NHS numbers"
            )
            raise FatalInputError(
                table.file,
                f"column '{original}' {where} (10 digits passing the modulus-11 check; first at line "
                f"{line}); wardwatch holds only aggregate ward data: remove patient identifiers at source",
            )


def _may_hold_nhs_numbers(col: pl.Series) -> bool:
    """False when no value of ``col`` can be an NHS number, decided without hashing its values.

    Only numbers and text can hold one: numbers of at least nine digits, text of at least ten bytes
    (a column's byte lengths are known without reading the text).
    """
    if col.dtype.is_integer() or col.dtype.is_float():
        top = col.max()
        return top is not None and not float(top) < 1e8  # type: ignore[arg-type]
    if col.dtype == pl.String:
        return max_byte_length(col) >= 10
    return False


def _distinct(col: pl.Series) -> pl.Series:
    """The distinct values of ``col``; a column in long runs of one value (a national file sorted by
    ward) is reduced to its runs first, which is cheaper than hashing every row."""
    if len(col) >= 100_000:
        runs = col.rle()
        if len(runs) * 8 <= len(col):
            return runs.struct.field("value").unique()
    return col.unique()
