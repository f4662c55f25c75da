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

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from engine.io.errors import FatalInputError
from engine.io.privacy import is_identifier_column, nhs_number_mask, normalise_name, text_has_nhs_number
from engine.io.views import max_byte_length

LINE = "_line"  # physical line number column added to every raw frame
BAD_FIELDS = "_bad_fields"  # non-null when a CSV row has more fields than the header

_BOM = b"\xef\xbb\xbf"
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
    only:
        Normalised names of the only columns whose values are read (an export's other columns, free
        text included, never enter memory); every column *name* is still checked for patient
        identifiers. ``required`` must be among them.
    """
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise FatalInputError(file, "file not found")
    with p.open("rb") as fh:
        head = fh.read(4)
    keep = None if only is None else list(only)
    if head == _PARQUET_MAGIC:
        table = _read_parquet(p, file, keep)
    else:
        if p.suffix.lower() in {".xlsx", ".xls", ".xlsm", ".ods", ".json", ".zip", ".gz"} or head.startswith(
            b"PK\x03\x04"
        ):
            raise FatalInputError(file, "not a CSV or Parquet file (save spreadsheets as CSV UTF-8)")
        table = _read_csv(p, file, keep)
    check_columns(table, required)
    _check_privacy(table, free_text)
    return table


def _read_parquet(p: Path, file: str, keep: list[str] | None = None) -> RawTable:
    try:
        if keep is None:
            frame = pl.read_parquet(p)
        else:
            all_names = pl.read_parquet_schema(p)
            by_norm = dict(zip(_normalise_header(file, list(all_names)), all_names, strict=True))
            _refuse_identifier_names(file, by_norm)
            frame = pl.read_parquet(p, columns=[by_norm[k] for k in keep if k in by_norm])
    except FatalInputError:
        raise
    except Exception as exc:  # corrupt file
        raise FatalInputError(file, f"not a readable Parquet file ({type(exc).__name__})") from None
    names = _normalise_header(file, frame.columns)
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(LINE))
    original = dict(zip(names, [str(c) for c in frame.columns], strict=False))
    if keep is not None:  # every column's name, read or not (as for CSV)
        original = {k: str(v) for k, v in by_norm.items()}
    return RawTable(file, "parquet", frame, original)


def _refuse_identifier_names(file: str, by_norm: dict[str, str]) -> None:
    """Refuse a file with a column *named* like a patient identifier (even one that is not read)."""
    for name, original in by_norm.items():
        if is_identifier_column(name):
            raise FatalInputError(
                file,
                f"column '{original}' looks like a patient identifier; wardwatch holds only aggregate "
                "ward data: remove the column",
            )


def _select(table: RawTable, keep: list[str] | None) -> RawTable:
    """The table with only the ``keep`` columns (and the bookkeeping columns)."""
    if keep is None:
        return table
    cols = [c for c in table.frame.columns if c in keep or c.startswith("_")]
    return RawTable(table.file, table.kind, table.frame.select(cols), table.original_names)


def _read_csv(p: Path, file: str, keep: list[str] | None = None) -> RawTable:
    data = p.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if b"\x00" in data[:65536]:
        raise FatalInputError(file, "not a CSV or Parquet file (it contains binary data)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FatalInputError(
            file, f"not UTF-8 (first bad byte on line {line}); save the file as 'CSV UTF-8'"
        ) from None
    if not data.strip():
        raise FatalInputError(file, "the file is empty (no header row)")
    first_line = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    header = next(csv.reader([first_line]))
    names = _normalise_header(file, header)
    if keep is not None:
        _refuse_identifier_names(file, dict(zip(names, header, strict=True)))
    picked = names if keep is None else [c for c in names if c in keep]
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            has_header=True,
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=False,
            columns=None if keep is None else [names.index(c) for c in picked],
        )
    except pl.exceptions.NoDataError:
        frame = pl.DataFrame(schema=dict.fromkeys(picked, pl.String))
    except pl.exceptions.PolarsError:
        # Some row has more fields than the header: slow path (standard-library parser) that keeps
        # every row and marks the long ones, so they are rejected rather than truncated.
        return _select(_read_csv_ragged(data, file, names, header), keep)
    if frame.width != len(picked):  # pragma: no cover - defensive: header parsed differently
        return _select(_read_csv_ragged(data, file, names, header), keep)
    frame.columns = picked
    lines = _record_lines(data, frame.height)
    frame = frame.with_columns(
        pl.Series(LINE, lines, dtype=pl.Int64), pl.lit(None, pl.String).alias(BAD_FIELDS)
    )
    if keep is None:
        frame = _drop_blank(frame, picked)
    elif frame.height:
        # the columns not read cannot show a row longer than the header: count its separators
        extra = _extra_fields(data, frame.height, len(names))
        frame = frame.with_columns(
            pl.when(pl.Series(extra) > 0)
            .then(pl.format("({} extra fields)", pl.Series(extra)))
            .otherwise(None)
            .alias(BAD_FIELDS)
        )  # blank lines, judged on the whole physical line (not just the kept fields)
        physical = pl.Series(data.decode("utf-8").split("\n"), dtype=pl.String)
        text = physical.gather(frame[LINE] - 1).str.replace_all(r"[,\s]", "")
        frame = frame.filter((text != "").to_numpy())
    return RawTable(file, "csv", frame, dict(zip(names, header, strict=True)))


def _read_csv_ragged(data: bytes, file: str, names: list[str], header: list[str]) -> RawTable:
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    n = len(names)
    cols: list[list[str]] = [[] for _ in range(n)]
    lines: list[int] = []
    bad: list[str | None] = []
    line = reader.line_num + 1
    for row in reader:
        lines.append(line)
        line = reader.line_num + 1
        padded = row + [""] * (n - len(row))
        for j in range(n):
            cols[j].append(padded[j])
        bad.append(",".join(row[n:]) if len(row) > n else None)
    frame = pl.DataFrame(
        {**{name: pl.Series(name, c, dtype=pl.String) for name, c in zip(names, cols, strict=True)}},
        schema=dict.fromkeys(names, pl.String),
    ).with_columns(pl.Series(LINE, lines, dtype=pl.Int64), pl.Series(BAD_FIELDS, bad, dtype=pl.String))
    frame = _drop_blank(frame, names)
    return RawTable(file, "csv", frame, dict(zip(names, header, strict=True)))


def _drop_blank(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Remove blank lines (every field empty; a line of spaces is a row, and is rejected): not rows."""
    if frame.height == 0:
        return frame
    blank = pl.all_horizontal([(pl.col(c) == "").fill_null(True) for c in names])
    if BAD_FIELDS in frame.columns:
        blank = blank & pl.col(BAD_FIELDS).is_null()
    return frame.filter(~blank)


def _extra_fields(data: bytes, n_rows: int, n_cols: int) -> np.ndarray:
    """Per data record, how many more fields than the header it has (commas outside quotes)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    outside = np.cumsum(arr == 34) % 2 == 0
    ends = np.flatnonzero((arr == 10) & outside)
    seps = np.flatnonzero((arr == 44) & outside)
    per_record = np.bincount(np.searchsorted(ends, seps), minlength=n_rows + 1)
    return np.maximum(per_record[1 : n_rows + 1] - (n_cols - 1), 0)


def _record_lines(data: bytes, n_rows: int) -> np.ndarray:
    """Physical line number of each data record (header = line 1), honouring quoted newlines."""
    if b'"' not in data:
        return np.arange(2, n_rows + 2, dtype=np.int64)
    arr = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    quotes = np.cumsum(arr == 34)
    ends = np.flatnonzero(quotes[newlines] % 2 == 0)  # indices (among newlines) that end a record
    # record k (k = 0 is the header) ends at newline ends[k]; data record i starts after ends[i].
    starts = ends[:n_rows] + 2
    if len(starts) < n_rows:  # last record without a trailing newline
        last = (int(ends[-1]) + 2) if len(ends) else 2
        starts = np.concatenate([starts, [last]])
    return starts.astype(np.int64)


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
    for name in table.frame.columns:
        if name.startswith("_"):
            continue
        original = table.original_names.get(name, name)
        if is_identifier_column(name):
            raise FatalInputError(
                table.file,
                f"column '{original}' looks like a patient identifier; wardwatch holds only aggregate "
                "ward data: remove the column",
            )
        col = table.frame[name]
        if not _may_hold_nhs_numbers(col):
            continue
        # Most columns repeat few values: test the distinct values first, rows only on a hit.
        if not nhs_number_mask(_distinct(col)).any():
            continue
        mask = nhs_number_mask(col)
        if mask.any():
            line = int(table.frame[LINE][int(np.argmax(mask))])
            raise FatalInputError(
                table.file,
                f"column '{original}' holds values that look like NHS numbers (10 digits passing the "
                f"modulus-11 check; first at line {line}); wardwatch holds only aggregate ward data: "
                "remove them at source",
            )
    for name in free_text:
        if name in table.frame.columns and table.frame[name].dtype == pl.String:
            col = table.frame[name].fill_null("")
            hits = col.str.contains(r"\d{3} ?\d{3} ?\d{4}")
            for i in np.flatnonzero(hits.to_numpy()):
                if text_has_nhs_number(col[int(i)]):
                    raise FatalInputError(
                        table.file,
                        f"column '{table.original_names.get(name, name)}' contains an NHS number in its "
                        f"text (line {int(table.frame[LINE][int(i)])}); remove patient identifiers",
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
