"""A generated corpus of hostile inputs and faults: bad files, bad settings, store and output faults.

Each :class:`Case` writes its files into a folder and names the command lines to run with the exit
code the contract documents (docs/data-contract.md, "Exit codes"). Nothing large is committed: every
file is generated here from a small clean dataset.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

START = dt.date(2024, 1, 1)  # a Monday
WEEKS = 30
WARDS = ("W1", "W2", "W3")
HEADER = "ward_id,period,indicator,numerator,denominator"


def obs_lines() -> list[str]:
    """Clean long-layout observation rows (no header)."""
    rows = []
    for w_i, w in enumerate(WARDS):
        for t in range(WEEKS):
            day = START + dt.timedelta(weeks=t)
            rows.append(f"{w},{day},restraint,{(t * 7 + w_i * 3) % 5},{120 + w_i}")
            rows.append(f"{w},{day},manager_changes,{1 if t == 10 else 0},")
    return rows


def clean_obs() -> str:
    return HEADER + "\n" + "\n".join(obs_lines()) + "\n"


WARDS_CSV = 'ward_id,ward_name,provider,ward_type,beds,site\nW1,Ash,North,picu,10,Main\nW2,Beech,North,acute_adult,18,"Annexe, east"\nW3,Cedar,North,rehab,,Main\n'
EVENTS_CSV = "ward_id,date,kind,note\nW1,2024-03-04,manager_change,New manager\nW2,2024-04-01,note,ok\n"


def with_row(i: int, row: str) -> str:
    """The clean file with data row ``i`` (0-based) replaced by ``row``."""
    lines = obs_lines()
    lines[i] = row
    return HEADER + "\n" + "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """One hostile input or fault.

    ``files`` maps a role (observations, wards, events, config, ...) to text, bytes or a writer
    ``f(path)``; ``runs`` lists (argv template, expected exit code); ``{observations}`` etc. in an
    argv are replaced by the written paths, ``{out}`` by a fresh folder, ``{tmp}`` by the case folder.
    ``records`` gives the observations' physical records when not countable line by line.
    """

    name: str
    files: dict[str, str | bytes | Callable[[Path], None]]
    runs: tuple[tuple[tuple[str, ...], int], ...]
    records: int | None = None
    accounting: bool = True
    extra: dict[str, str] = field(default_factory=dict)


VALIDATE = ("validate", "{observations}", "--wards", "{wards}")
VALIDATE_EV = (*VALIDATE, "--events", "{events}")
SCORE = ("score", "--observations", "{observations}", "--wards", "{wards}", "--out", "{out}", "--no-charts")
CHANGEPOINTS = ("changepoints", "{observations}", "--out", "{tmp}/cp.csv")


def _obs_case(
    name: str, content: str | bytes | Callable[[Path], None], code: int, score: int | None = None, **kw
) -> Case:  # type: ignore[no-untyped-def]
    runs: list[tuple[tuple[str, ...], int]] = [(VALIDATE, code), (SCORE, code if score is None else score)]
    if code == 2:
        runs.append((CHANGEPOINTS, 2))
    return Case(name, {"observations": content, "wards": WARDS_CSV}, tuple(runs), **kw)


def _parquet(frame: pl.DataFrame) -> Callable[[Path], None]:
    return lambda p: frame.write_parquet(p)


def _arrow_parquet(table_fn: Callable[[], object]) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(table_fn(), p)  # type: ignore[arg-type]

    return write


def _list_column() -> object:
    import pyarrow as pa

    return pa.table(
        {
            "ward_id": ["W1", "W1"],
            "period": ["2024-01-01", "2024-01-08"],
            "indicator": ["restraint", "restraint"],
            "numerator": pa.array([[1], [2]], type=pa.list_(pa.int64())),
            "denominator": [120, 120],
        }
    )


def _bad_utf8() -> object:
    import pyarrow as pa

    return pa.table(
        {
            "ward_id": pa.array([b"W1", b"W\xff"], type=pa.binary()),
            "period": ["2024-01-01", "2024-01-08"],
            "indicator": ["restraint", "restraint"],
            "numerator": [1, 2],
            "denominator": [120, 120],
        }
    )


def _far_future() -> object:
    import pyarrow as pa

    return pa.table(
        {
            "ward_id": ["W1", "W1"],
            "period": pa.array([dt.date(2024, 1, 1), dt.date(9999, 12, 31)], type=pa.date32()),
            "indicator": ["restraint", "restraint"],
            "numerator": [1, 2],
            "denominator": [120, 120],
        }
    )


def _far_future_ts() -> object:
    import pyarrow as pa

    return pa.table(
        {
            "ward_id": ["W1", "W1"],
            "period": pa.array([0, 12_000 * 365 * 86_400 * 10**6], type=pa.timestamp("us")),
            "indicator": ["restraint", "restraint"],
            "numerator": [1, 2],
            "denominator": [120, 120],
        }
    )


def _wide() -> str:
    lines = ["ward_id,period,restraint,restraint__denominator,manager_changes"]
    for w in WARDS:
        for t in range(WEEKS):
            lines.append(f"{w},{START + dt.timedelta(weeks=t)},{t % 3},120,0")
    return "\n".join(lines) + "\n"


def _store_corrupt(p: Path) -> None:
    p.write_bytes(b"SQLite format 3\x00" + b"\x13" * 4000)


def _store_newer(p: Path) -> None:
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE future (x)")
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()


def _store_foreign(p: Path) -> None:
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE accounts (x)")
    conn.commit()
    conn.close()


def _folder(p: Path) -> None:
    p.mkdir()


def cases() -> list[Case]:
    """Every case of the corpus."""
    ok = clean_obs()
    n = len(obs_lines())
    out: list[Case] = [
        _obs_case("clean", ok, 0),
        # --- quotes and line ends (item 1)
        _obs_case("stray_quote_to_eof", with_row(3, 'W1,2024-01-15,restraint,"2,120'), 2),
        _obs_case(
            "stray_quote_closes_mid_field",
            with_row(3, 'W1,2024-01-15,restraint,"2,120')
            .replace("W2,2024-01-01,restraint", 'W2,2024-01-01,rest"raint', 1)
            .replace('rest"raint', 'x"restraint', 1),
            2,
        ),
        _obs_case("quoted_newline_clean", with_row(3, 'W1,2024-01-15,"restr\naint",2,120'), 1, records=n),
        _obs_case("cr_only", ok.replace("\n", "\r"), 0),
        _obs_case("crlf", ok.replace("\n", "\r\n"), 0),
        _obs_case("lone_cr_in_value", with_row(3, "W1,2024-01-15,restraint,13\r9,120"), 1),
        _obs_case(
            "lone_cr_and_long_row",
            with_row(3, "W1,2024-01-15,restraint,13\r9,120").replace(
                "W2,2024-01-08,restraint,0,122", "W2,2024-01-08,restraint,0,122,5"
            ),
            1,
        ),
        _obs_case("bom", "\ufeff" + ok, 0),
        _obs_case("utf16_bom", ok.encode("utf-16"), 2),
        _obs_case("utf16_no_bom", ok.encode("utf-16-le"), 2),
        _obs_case(
            "latin1",
            with_row(2, "W1,2024-01-08,restraint,2,120").encode()
            + "W1,2024-09-02,restraint,1,120,caf\xe9\n".encode("latin-1"),
            2,
        ),
        _obs_case("binary", b"\x00\x01\x02" * 100, 2),
        _obs_case("empty", "", 2),
        _obs_case("header_only", HEADER + "\n", 0, score=2),
        _obs_case("blank_lines_only", HEADER + "\n\n\n,,,,\n", 0, score=2),
        _obs_case("whitespace_line", ok + "   \n", 1),
        _obs_case("commas_line", ok + ",,,,\n", 0),
        _obs_case("no_trailing_newline", ok.rstrip("\n"), 0),
        # --- dates (item 2)
        _obs_case("two_digit_year", with_row(4, "W1,01/12/22,restraint,2,120"), 1),
        _obs_case("year_2204", with_row(4, "W1,2204-01-01,restraint,2,120"), 1),
        _obs_case("year_1899", with_row(4, "W1,1899-01-02,restraint,2,120"), 1),
        _obs_case("year_0001", with_row(4, "W1,0001-01-01,restraint,2,120"), 1),
        _obs_case("us_date", with_row(4, "W1,12/31/2024,restraint,2,120"), 1),
        # --- status and plausibility (item 5)
        _obs_case(
            "status_suppressed_zero",
            HEADER
            + ",status\n"
            + "\n".join(r + ("," + ("suppressed" if i == 4 else "")) for i, r in enumerate(obs_lines()))
            + "\n",
            0,
        ),
        _obs_case(
            "status_banana",
            HEADER
            + ",status\n"
            + "\n".join(r + ("," + ("banana" if i == 4 else "")) for i, r in enumerate(obs_lines()))
            + "\n",
            1,
        ),
        _obs_case("numerator_1e308", with_row(4, "W1,2024-01-15,restraint,1e308,120"), 1),
        _obs_case("denominator_1e308", with_row(4, "W1,2024-01-15,restraint,1,1e308"), 1),
        _obs_case("numerator_nan", with_row(4, "W1,2024-01-15,restraint,nan,120"), 1),
        _obs_case("numerator_inf", with_row(4, "W1,2024-01-15,restraint,inf,120"), 1),
        _obs_case("numerator_negative", with_row(4, "W1,2024-01-15,restraint,-4,120"), 1),
        _obs_case("numerator_unicode_digits", with_row(4, "W1,2024-01-15,restraint,\u0663,120"), 1),
        # --- layout and columns
        _obs_case("long_missing_indicator", "ward_id,period,numerator,denominator\nW1,2024-01-01,2,120\n", 2),
        _obs_case("semicolons", ok.replace(",", ";"), 2),
        _obs_case("tabs", ok.replace(",", "\t"), 2),
        _obs_case("duplicate_column", ok.replace("denominator", "numerator", 1), 2),
        _obs_case("empty_column_name", ok.replace("denominator", "", 1), 2),
        _obs_case("spreadsheet", b"PK\x03\x04" + b"\x00" * 64, 2),
        _obs_case("missing_file", None, 2),  # type: ignore[arg-type]
        _obs_case("folder", _folder, 2),
        _obs_case("wide_ok", _wide(), 0, accounting=False),
        # --- identifiers (item 4)
        _obs_case(
            "column_patient_nhs_number",
            ok.replace("denominator", "denominator,PatientNHSNumber", 1)
            .replace("\n", ",\n")
            .replace("denominator,PatientNHSNumber,", "denominator,PatientNHSNumber", 1),
            2,
        ),
        _obs_case(
            "column_patient_surname", HEADER + ",Patient Surname\nW1,2024-01-01,restraint,2,120,Smith\n", 2
        ),
        _obs_case(
            "nhs_number_dashes_in_text",
            HEADER + ",comment\nW1,2024-01-01,restraint,2,120,seen by 943-476-5919\n",
            2,
        ),
        _obs_case(
            "nhs_number_unicode_ward",
            HEADER
            + "\n\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669,2024-01-01,restraint,2,120\n",
            2,
        ),
        _obs_case("unicode_digit_ward", with_row(4, "W\u0661,2024-01-15,restraint,2,120"), 1),
        # --- row shapes
        _obs_case("extra_field", with_row(4, "W1,2024-01-15,restraint,2,120,9"), 1),
        _obs_case("short_row", with_row(4, "W1,2024-01-15"), 1),
        _obs_case("thousands_unquoted", with_row(4, "W1,2024-01-15,restraint,1,234,120"), 1),
        _obs_case("duplicate_rows", ok + obs_lines()[0] + "\n", 1),
        _obs_case("unknown_indicator", with_row(4, "W1,2024-01-15,restrant,2,120"), 1),
        _obs_case("monthly_row_among_weekly", with_row(4, "W1,2024-02-01,restraint,2,120"), 1),
        _obs_case("control_chars", with_row(4, "W1\x07,2024-01-15,restraint,2,120"), 1),
        _obs_case("formula_in_ward", with_row(4, '=HYPERLINK("x"),2024-01-15,restraint,2,120'), 1),
        _obs_case("very_long_field", with_row(4, "W1,2024-01-15,restraint," + "9" * 200_000 + ",120"), 1),
        # --- Parquet
        _obs_case("parquet_ok", _parquet(pl.read_csv(ok.encode(), infer_schema=False)), 0, accounting=False),
        _obs_case("parquet_list_column", _arrow_parquet(_list_column), 2),
        _obs_case("parquet_invalid_utf8", _arrow_parquet(_bad_utf8), 2),
        _obs_case("parquet_year_9999", _arrow_parquet(_far_future), 1, accounting=False),
        _obs_case("parquet_timestamp_overflow", _arrow_parquet(_far_future_ts), 1, score=2, accounting=False),
        _obs_case("parquet_corrupt", b"PAR1" + b"\x00" * 100, 2),
    ]
    # --- ward register
    for name, wards, code in [
        ("wards_missing_column", "ward_id,ward_name\nW1,Ash\n", 2),
        ("wards_nhs_in_free_text", WARDS_CSV.replace("Main\n", "Main 943 476 5919\n", 1), 2),
        ("wards_stray_quote", WARDS_CSV.replace("Ash", '"Ash', 1), 2),
        ("wards_duplicate", WARDS_CSV + "W1,Ash,North,picu,10,Main\n", 1),
        ("wards_cr_only", WARDS_CSV.replace("\n", "\r"), 0),
        ("wards_patient_column", WARDS_CSV.replace("site", "Client DOB", 1), 2),
    ]:
        out.append(Case(name, {"observations": ok, "wards": wards}, ((VALIDATE, code),), accounting=False))
    # --- events
    for name, events, code in [
        (
            "events_stray_quote",
            'ward_id,date,kind,note\nW1,2024-01-01,note,"Staff said ""fine\nW1,2024-02-05,rebase,\nW1,2024-03-04,reconfiguration,x\n',
            2,
        ),
        ("events_nhs_dashes", "ward_id,date,kind,note\nW1,2024-01-01,note,patient 943-476-5919 seen\n", 2),
        (
            "events_nhs_unicode",
            "ward_id,date,kind,note\nW1,2024-01-01,note,\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19\n",
            2,
        ),
        ("events_year_2204", "ward_id,date,kind,note\nW1,2204-01-01,rebase,\n", 1),
        ("events_unknown_kind", "ward_id,date,kind,note\nW1,2024-01-01,holiday,\n", 1),
    ]:
        out.append(
            Case(
                name,
                {"observations": ok, "wards": WARDS_CSV, "events": events},
                ((VALIDATE_EV, code), ((*SCORE, "--events", "{events}"), code)),
                accounting=False,
            )
        )
    # --- configuration (item 5)
    config_check = ("config", "check", "{config}")
    score_cfg = (*SCORE, "--config", "{config}")
    for name, config, code in [
        ("config_valid", "[combination]\ncusum_threshold = 6.0\n", 0),
        ("config_threshold_nan", "[combination]\ncusum_threshold = nan\n", 2),
        ("config_threshold_negative", "[combination]\ncusum_threshold = -1\n", 2),
        ("config_threshold_zero", "[combination]\ncusum_threshold = 0\n", 2),
        ("config_warmup_zero", "[baselines]\nwarmup_periods = 0\n", 2),
        ("config_update_weight_2", "[baselines]\nupdate_weight = 2\n", 2),
        ("config_not_toml", "[combination\n", 2),
        ("config_unknown_key", "[combination]\ncusum_treshold = 6.0\n", 2),
        ("config_bad_window", '[input]\nearliest_period = "2030-01-01"\nlatest_period = "2020-01-01"\n', 2),
        ("config_not_utf8", b"[combination]\n# caf\xe9\ncusum_threshold = 6.0\n", 2),
        ("config_folder", _folder, 2),
    ]:
        out.append(
            Case(
                name,
                {"observations": ok, "wards": WARDS_CSV, "config": config},
                ((config_check, code), (score_cfg, code)),
                accounting=False,
            )
        )
    # --- outputs and stores
    out += [
        Case(
            "out_is_a_file",
            {"observations": ok, "wards": WARDS_CSV, "blocker": "x"},
            (
                (
                    (
                        "score",
                        "--observations",
                        "{observations}",
                        "--wards",
                        "{wards}",
                        "--out",
                        "{blocker}",
                        "--no-charts",
                    ),
                    2,
                ),
            ),
            accounting=False,
        ),
        Case(
            "rejects_under_a_file",
            {"observations": ok, "wards": WARDS_CSV, "blocker": "x"},
            (((*VALIDATE, "--rejects", "{blocker}/r.csv"), 2),),
            accounting=False,
        ),
        Case(
            "store_corrupt",
            {"observations": ok, "wards": WARDS_CSV, "store": _store_corrupt},
            (((*SCORE, "--store", "{store}"), 2), (("alerts", "list", "--store", "{store}"), 2)),
            accounting=False,
        ),
        Case(
            "store_newer_schema",
            {"observations": ok, "wards": WARDS_CSV, "store": _store_newer},
            (((*SCORE, "--store", "{store}"), 2), (("alerts", "list", "--store", "{store}"), 2)),
            accounting=False,
        ),
        Case(
            "store_foreign_sqlite",
            {"observations": ok, "wards": WARDS_CSV, "store": _store_foreign},
            (((*SCORE, "--store", "{store}"), 2),),
            accounting=False,
        ),
        Case(
            "store_is_folder",
            {"observations": ok, "wards": WARDS_CSV, "store": _folder},
            (((*SCORE, "--store", "{store}"), 2), (("alerts", "list", "--store", "{store}"), 2)),
            accounting=False,
        ),
        Case(
            "store_missing",
            {"observations": ok, "wards": WARDS_CSV},
            ((("alerts", "list", "--store", "{tmp}/none.db"), 2),),
            accounting=False,
        ),
        Case(
            "alerts_unknown_id",
            {"observations": ok, "wards": WARDS_CSV},
            ((("alerts", "show", "nope", "--store", "{tmp}/s.db"), 2),),
            accounting=False,
        ),
        # --- other commands with bad input
        Case(
            "spc_stray_quote",
            {"observations": with_row(3, 'W1,2024-01-15,restraint,"2,120'), "wards": WARDS_CSV},
            ((("spc", "{observations}", "--date", "period", "--value", "numerator"), 2),),
            accounting=False,
        ),
        Case(
            "spc_missing_column",
            {"observations": ok, "wards": WARDS_CSV},
            ((("spc", "{observations}", "--date", "when", "--value", "numerator"), 2),),
            accounting=False,
        ),
        Case(
            "import_mhsds_empty_folder",
            {"observations": ok, "wards": WARDS_CSV, "mhsds": _folder},
            ((("import-mhsds", "{mhsds}", "--out", "{out}"), 2),),
            accounting=False,
        ),
        Case(
            "dashboard_no_data",
            {"observations": ok, "wards": WARDS_CSV},
            ((("dashboard", "--data", "{tmp}/nothing"), 2),),
            accounting=False,
        ),
        Case(
            "brief_no_results",
            {"observations": ok, "wards": WARDS_CSV},
            ((("brief", "--results", "{tmp}/nothing", "--ward", "W1", "--out", "{out}"), 2),),
            accounting=False,
        ),
        Case(
            "evaluate_no_truth",
            {"observations": ok, "wards": WARDS_CSV},
            ((("evaluate", "--truth", "{tmp}/none.csv", "--results", "{tmp}/none", "--out", "{out}"), 2),),
            accounting=False,
        ),
        Case(
            "sweep_missing_grid",
            {"observations": ok, "wards": WARDS_CSV},
            ((("sweep", "--grid", "{tmp}/none.toml", "--out", "{out}"), 2),),
            accounting=False,
        ),
        Case(
            "calibrate_alerts_stray_quote",
            {"observations": with_row(3, 'W1,2024-01-15,restraint,"2,120'), "wards": WARDS_CSV},
            ((("calibrate-alerts", "--observations", "{observations}", "--wards", "{wards}"), 2),),
            accounting=False,
        ),
        Case(
            "arl_bad_parameter",
            {"observations": ok, "wards": WARDS_CSV},
            ((("arl", "--chart", "cusum", "--family", "poisson", "--h", "-1"), 2),),
            accounting=False,
        ),
        Case(
            "score_bad_as_of",
            {"observations": ok, "wards": WARDS_CSV},
            (((*SCORE, "--as-of", "2024-13-45"), 2),),
            accounting=False,
        ),
    ]
    return out
