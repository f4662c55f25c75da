"""Refusing patient-identifiable data: wardwatch holds only aggregate ward data.

Two checks, both fatal for the whole file:

* a column **named** like a patient identifier (``nhs_number``, ``patient_id``, ``date_of_birth``,
  ``postcode`` ...);
* a column whose **values** hold NHS numbers: ten digits (written together or ``3 3 4`` with spaces,
  dashes or dots; digits of any script, normalised first) whose tenth digit is the valid modulus-11
  check digit of the first nine, as the whole value or anywhere inside text. A random ten-digit
  number passes the check about one time in eleven; a column of real NHS numbers always passes. One
  such value is enough: a single NHS number in a file is already patient-identifiable, and the file
  is refused rather than "cleaned", because the user must fix the export at its source.

The check is vectorised (polars string kernels and a numpy checksum), run only on values that could
be NHS numbers (10 to 12 characters), so it costs little on national files.
"""

from __future__ import annotations

import re
import unicodedata

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

#: Separators allowed between the 3-3-4 groups of an NHS number (space, dash, dot, slash, none).
_SEP = r"[ \-./\u00a0]?"
#: Any NHS-number-shaped run of digits (any script: ``\d`` is Unicode-aware in both engines).
_NHS_SHAPE = rf"\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{4}}"
_NHS_RE = rf"^{_NHS_SHAPE}$"
_NHS_IN_TEXT = re.compile(rf"(?<!\d)(\d{{3}}){_SEP}(\d{{3}}){_SEP}(\d{{4}})(?!\d)")
#: Words of a column name that identify a person on their own (``Patient Surname``, ``Client DOB``).
_IDENTIFYING_WORDS = (
    "nhsnumber",
    "nhsno",
    "nhsnum",
    "surname",
    "forename",
    "firstname",
    "lastname",
    "fullname",
    "givenname",
    "familyname",
    "dateofbirth",
    "birthdate",
    "postcode",
    "zipcode",
    "hospitalnumber",
    "chinumber",
)
#: A person word, and what makes a column named with it identifying (``Patient ID``, ``Client Name``).
_PERSON_WORDS = ("patient", "client", "serviceuser", "resident", "inpatient")
_PERSON_SUFFIXES = (
    "id",
    "identifier",
    "name",
    "number",
    "no",
    "num",
    "ref",
    "reference",
    "initials",
    "dob",
    "mrn",
)
_WEIGHTS = np.arange(10, 1, -1)  # 10, 9, ..., 2 for digits 1..9


def normalise_name(name: str) -> str:
    """Lower-case a column name; runs of characters other than letters, digits and ``_`` become ``_``."""
    return re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")


def is_identifier_column(name: str) -> bool:
    """True when a column's name says it holds a patient identifier.

    Exact names (:data:`IDENTIFIER_COLUMNS`), names containing an identifying word whatever the
    spelling (``PatientNHSNumber``, ``Patient Surname``, ``nhs-no``, ``Date of birth (client)``),
    and a person word followed by an id word (``Patient ID``, ``client_name``, ``ServiceUserRef``).
    """
    norm = normalise_name(re.sub(r"([a-z])([A-Z])", r"\1_\2", name))
    if norm in IDENTIFIER_COLUMNS or normalise_name(name) in IDENTIFIER_COLUMNS:
        return True
    compact = norm.replace("_", "")
    if any(w in compact for w in _IDENTIFYING_WORDS):
        return True
    words = norm.split("_")
    if "dob" in words or ("nhs" in words and any(w in words for w in ("number", "no", "num", "id"))):
        return True
    for person in _PERSON_WORDS:
        at = compact.find(person)
        if at >= 0 and (compact == person or compact == person + "s"):
            return True
        if at >= 0 and any(w in words for w in _PERSON_SUFFIXES):
            return True
    return False


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
    return _text_mask(values, whole=True)


def nhs_number_in_text_mask(values: pl.Series) -> np.ndarray:
    """``(N,)`` bool: which text values contain a valid NHS number anywhere (free text, notes)."""
    if values.dtype != pl.String:
        return nhs_number_mask(values)
    return _text_mask(values, whole=False)


def _text_mask(values: pl.Series, *, whole: bool) -> np.ndarray:
    """Candidates by a vectorised regex (Unicode digits included), then the exact check per candidate."""
    out = np.zeros(len(values), dtype=bool)
    if (values.str.len_bytes().max() or 0) < 10:  # type: ignore[operator]
        return out
    s = values.str.strip_chars() if whole else values
    cand = s.str.contains(_NHS_RE if whole else _NHS_SHAPE).fill_null(False).to_numpy()
    for i in np.flatnonzero(cand):
        text = s[int(i)]
        out[i] = _has_valid_number(text, whole=whole)
    return out


def _has_valid_number(text: str, *, whole: bool) -> bool:
    for m in _NHS_IN_TEXT.finditer(text):
        if whole and (m.start() != 0 or m.end() != len(text)):
            continue
        digits = [unicodedata.digit(c) for c in "".join(m.groups())]
        if valid_nhs_digits(np.array([digits], dtype=np.int64))[0]:
            return True
    return False


def text_has_nhs_number(text: str) -> bool:
    """True when free text contains a valid NHS number (any common spelling, any script's digits)."""
    return _has_valid_number(text, whole=False)
