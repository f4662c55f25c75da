"""Refusing patient-identifiable data: wardwatch holds only aggregate ward data.

Two checks, both fatal for the whole file:

* a column **named** like a patient identifier (``nhs_number``, ``patient_id``, ``date_of_birth``,
  ``postcode`` ...);
* a column whose **values** look like NHS numbers: ten digits (optionally written ``3 3 4`` with
  spaces) whose tenth digit is the valid modulus-11 check digit of the first nine. A random ten-digit
  number passes the check about one time in eleven; a column of real NHS numbers always passes. One
  such value is enough: a single NHS number in a file is already patient-identifiable, and the file
  is refused rather than "cleaned", because the user must fix the export at its source.

The check is vectorised (polars string kernels and a numpy checksum), run only on values that could
be NHS numbers (10 to 12 characters), so it costs little on national files.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

#: Normalised column names (lower case, non-alphanumerics as ``_``) that identify a patient.
IDENTIFIER_COLUMNS: frozenset[str] = frozenset(
    {
        "nhs_number",
        "nhs_no",
        "nhsno",
        "nhs_num",
        "nhs",
        "patient_id",
        "patient_number",
        "patient_no",
        "patient_name",
        "name_of_patient",
        "patient",
        "forename",
        "surname",
        "first_name",
        "last_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "birthdate",
        "postcode",
        "post_code",
        "address",
        "hospital_number",
        "mrn",
        "chi_number",
    }
)

_NHS_RE = r"^\d{3} ?\d{3} ?\d{4}$"
_NHS_IN_TEXT = re.compile(r"(?<!\d)(\d{3} ?\d{3} ?\d{4})(?!\d)")
_WEIGHTS = np.arange(10, 1, -1)  # 10, 9, ..., 2 for digits 1..9


def normalise_name(name: str) -> str:
    """Lower-case a column name; runs of characters other than letters, digits and ``_`` become ``_``."""
    return re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")


def is_identifier_column(name: str) -> bool:
    """True when a column's name says it holds a patient identifier."""
    return normalise_name(name) in IDENTIFIER_COLUMNS


def valid_nhs_digits(digits: np.ndarray) -> np.ndarray:
    """Modulus-11 check of ten-digit NHS numbers.

    Parameters
    ----------
    digits:
        ``(N, 10)`` integer array of digits.

    Returns
    -------
    ``(N,)`` bool: the tenth digit is the check digit of the first nine (``11 - sum(d_i * w_i) mod
    11``, where 11 means 0 and 10 means the number is invalid).
    """
    if digits.size == 0:
        return np.zeros(0, dtype=bool)
    check = 11 - (digits[:, :9] @ _WEIGHTS) % 11
    check = np.where(check == 11, 0, check)
    return (check != 10) & (check == digits[:, 9])


def nhs_number_mask(values: pl.Series) -> np.ndarray:
    """``(N,)`` bool: which values (any dtype) are valid NHS numbers, written as a whole value."""
    if values.dtype.is_integer() or values.dtype.is_float():
        top = values.max()
        if top is None or float(top) < 1e8:  # type: ignore[arg-type]
            return np.zeros(len(values), dtype=bool)
        v = values.cast(pl.Float64).to_numpy()
        cand = np.isfinite(v) & (v >= 1e8) & (v < 1e10) & (np.floor(v) == v)
        out = np.zeros(len(v), dtype=bool)
        if cand.any():
            n = v[cand].astype(np.int64)
            digits = (n[:, None] // 10 ** np.arange(9, -1, -1)) % 10
            out[cand] = valid_nhs_digits(digits)
        return out
    if values.dtype != pl.String:
        return np.zeros(len(values), dtype=bool)
    if (values.str.len_bytes().max() or 0) < 10:  # type: ignore[operator]
        return np.zeros(len(values), dtype=bool)
    s = values.str.strip_chars()
    length = s.str.len_bytes()
    cand = (length >= 10) & (length <= 12)
    cand = cand.fill_null(False)
    out = np.zeros(len(values), dtype=bool)
    idx = np.flatnonzero(cand.to_numpy())
    if idx.size == 0:
        return out
    sub = s.gather(idx)
    ok = sub.str.contains(_NHS_RE).fill_null(False).to_numpy()
    idx, sub = idx[ok], sub.filter(pl.Series(ok))
    if idx.size == 0:
        return out
    raw = sub.str.replace_all(" ", "", literal=True)
    digits = np.frombuffer("".join(raw.to_list()).encode("ascii"), dtype=np.uint8).reshape(-1, 10) - 48
    out[idx] = valid_nhs_digits(digits.astype(np.int64))
    return out


def text_has_nhs_number(text: str) -> bool:
    """True when free text contains a valid NHS number (for notes and other free-text columns)."""
    for m in _NHS_IN_TEXT.finditer(text):
        d = np.frombuffer(m.group(1).replace(" ", "").encode("ascii"), dtype=np.uint8) - 48
        if valid_nhs_digits(d.astype(np.int64)[None, :])[0]:
            return True
    return False
