"""NHS number detection: the modulus-11 check against a plain reference implementation."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.io.privacy import is_identifier_column, nhs_number_mask, text_has_nhs_number, valid_nhs_digits


def reference_valid(number: str) -> bool:
    digits = [int(c) for c in number]
    total = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == digits[9]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 9_999_999_999), min_size=1, max_size=50))
def test_vectorised_check_matches_reference(numbers: list[int]) -> None:
    texts = [f"{n:010d}" for n in numbers]
    digits = np.array([[int(c) for c in t] for t in texts])
    assert valid_nhs_digits(digits).tolist() == [reference_valid(t) for t in texts]
    mask = nhs_number_mask(pl.Series(texts))
    assert mask.tolist() == [reference_valid(t) for t in texts]


def test_forms_and_types() -> None:
    s = pl.Series(["943 476 5919", "9434765919", " 9434765919 ", "9434765918", "943-476-5919", "W1", None])
    assert nhs_number_mask(s).tolist() == [True, True, True, False, True, False, False]
    assert nhs_number_mask(pl.Series([9434765919, 12, None])).tolist() == [True, False, False]
    assert nhs_number_mask(pl.Series([9434765919.0, 1.5])).tolist() == [True, False]
    assert text_has_nhs_number("seen by 943 476 5919 today")
    assert not text_has_nhs_number("call 020 7946 0958")


def test_identifier_column_names() -> None:
    for name in ["NHS Number", "nhs_no", "Patient ID", "date_of_birth", "DOB", "Postcode"]:
        assert is_identifier_column(name), name
    for name in ["ward_id", "ward_name", "numerator", "provider", "beds"]:
        assert not is_identifier_column(name), name
