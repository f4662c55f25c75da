"""Property: for any messy input, accepted + rejected = rows read, and no row is both."""

from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.io import load_dataset

BAD = Path(__file__).parents[1] / "data" / "bad"

WARDS = ["W1", "W2", "W3", "W9", "", " W1 "]
PERIODS = ["2024-01-01", "2024-01-08", "08/01/2024", "2024-01-09", "2024-02-01", "2024-02-30", "", "soon"]
INDICATORS = ["restraint", "Restraint", "agency_use", "manager_changes", "vacancy_rate", "restrant", ""]
NUMBERS = ["0", "1", "2", "3.5", "-1", "*", "", "x", "150", "1,200"]
DENOMS = ["", "0", "-5", "100", "140", "*", "abc", "2.5"]

row = st.tuples(
    st.sampled_from(WARDS),
    st.sampled_from(PERIODS),
    st.sampled_from(INDICATORS),
    st.sampled_from(NUMBERS),
    st.sampled_from(DENOMS),
    st.booleans(),  # an extra field (ragged row)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=0, max_size=40))
def test_accepted_plus_rejected_equals_rows_read(tmp_path: Path, rows: list) -> None:
    lines = ["ward_id,period,indicator,numerator,denominator"]
    for w, p, i, n, d, extra in rows:
        fields = [w, p, i, f'"{n}"' if "," in n else n, d]
        if extra:
            fields.append("surplus")
        lines.append(",".join(fields))
    path = tmp_path / "obs.csv"
    path.write_text("\n".join(lines) + "\n")
    result = load_dataset(path, BAD / "wards.csv")
    key = str(path)
    blank = sum(1 for w, p, i, n, d, extra in rows if not (w.strip() or p or i or n or d or extra))
    assert result.rows_read[key] == len(rows) - blank
    n_rej = result.rejected.filter(pl.col("file") == key).height
    assert result.accepted[key] + n_rej == result.rows_read[key]
    assert result.observations.height == result.accepted[key]
    # every rejected line is a distinct data line, within the file
    rej_lines = result.rejected.filter(pl.col("file") == key)["line"]
    assert rej_lines.n_unique() == n_rej
    assert rej_lines.is_between(2, len(rows) + 1).all()
    # accepted observations never hold zero for a suppressed or unknown value
    obs = result.observations
    assert (
        obs.filter(pl.col("status") != "observed")["numerator"].null_count()
        == obs.filter(pl.col("status") != "observed").height
    )
    # no duplicate keys survive
    assert obs.select("ward_id", "period", "indicator").is_duplicated().sum() == 0
