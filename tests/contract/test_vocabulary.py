"""One vocabulary: levels, column lists and date formats are defined once in ``engine.contract``;
the old names elsewhere are the same objects, and no module restates them."""

from __future__ import annotations

import ast
import datetime as dt

import pytest

import engine.contract as contract
from engine.contract import Level
from tests.contract.import_graph import module_files, parsed


def test_levels_are_ordered_with_their_words_and_colours():
    assert [lv.value for lv in contract.LEVEL_ORDER] == ["none", "watch", "concern", "urgent"]
    assert [lv.rank for lv in contract.LEVEL_ORDER] == [0, 1, 2, 3]
    assert Level("urgent") is Level.URGENT and Level.of_rank(2) is Level.CONCERN
    assert Level.URGENT == "urgent"  # a StrEnum: compares with (and writes as) the file's name
    # the badge word and the sentence opening are the two named forms; they differ only for urgent
    assert contract.LEVEL_WORDS == {
        "none": "No concern",
        "watch": "Watch",
        "concern": "Concern",
        "urgent": "Urgent",
    }
    assert {k: v for k, v in contract.LEVEL_PHRASES.items() if v != contract.LEVEL_WORDS[k]} == {
        "urgent": "Urgent concern"
    }
    # every table has every level, in severity order (chart legends rely on the order)
    for table in (
        contract.LEVEL_RANK,
        contract.LEVEL_WORDS,
        contract.LEVEL_PHRASES,
        contract.LEVEL_MEANINGS,
        contract.LEVEL_COLOURS,
        contract.LEVEL_TEXT_COLOURS,
    ):
        assert tuple(table) == contract.LEVEL_NAMES
    assert len(set(contract.LEVEL_COLOURS.values())) == 4
    assert contract.VISIT_LEVELS == ("urgent", "concern")


def test_old_names_are_the_contract_objects():
    """Existing imports keep working, and cannot drift: each is the contract's object itself."""
    import dashboard.services.formatting as formatting
    import engine.combine.levels as combine_levels
    import engine.evaluate.grid as grid
    import engine.evaluate.truth as truth
    import engine.explain as explain
    import engine.panel as panel
    import engine.scoring.alerts as scoring_alerts
    import engine.store as store
    import synthetic.frames as frames
    import synthetic.spec as spec

    assert combine_levels.LEVELS is contract.LEVEL_NAMES
    assert (combine_levels.NONE, combine_levels.WATCH, combine_levels.CONCERN, combine_levels.URGENT) == (
        0,
        1,
        2,
        3,
    )
    assert grid.LEVEL_CODES is contract.LEVEL_RANK
    assert store.LEVEL_RANK is contract.LEVEL_RANK
    assert formatting.LEVEL_ORDER is contract.LEVEL_RANK
    assert formatting.LEVEL_WORDS is contract.LEVEL_WORDS
    assert formatting.LEVEL_COLOURS is contract.LEVEL_COLOURS
    assert formatting.VISIT_LEVELS is contract.VISIT_LEVELS
    assert explain.LEVEL_WORDS is contract.LEVEL_PHRASES
    assert panel.OBSERVATION_SCHEMA is contract.OBSERVATION_SCHEMA
    assert panel.STATUS_LABELS is contract.STATUS_LABELS
    assert store.ALERTS_CSV_COLUMNS is contract.ALERTS_CSV_COLUMNS
    assert scoring_alerts.ALERT_COLUMNS is contract.ALERT_COLUMNS
    assert truth.TRUTH_COLUMNS is contract.TRUTH_COLUMNS
    assert truth.CULTURE_KINDS is contract.CULTURE_KINDS
    assert spec.CULTURE_KINDS is contract.CULTURE_KINDS
    assert frames.CONTRACT_COLUMNS is contract.OBSERVATION_FILE_COLUMNS
    assert formatting.uk_date is contract.uk_date and formatting.long_date is contract.long_date


def test_truth_columns():
    """``truth.csv`` columns in file order (synthetic/README.md): a change here is a contract change."""
    assert contract.TRUTH_COLUMNS == (
        "episode_id",
        "group_id",
        "ward_id",
        "kind",
        "onset",
        "full_effect",
        "end",
        "indicators",
        "effects",
    )
    assert contract.TRUTH_COLUMNS[:7] == contract.EPISODE_COLUMNS


def test_alert_columns_partition_into_text_dates_and_numbers():
    cols = contract.ALERT_COLUMNS
    assert cols[: len(contract.ALERTS_CSV_COLUMNS)] == contract.ALERTS_CSV_COLUMNS
    parts = (contract.ALERT_TEXT_COLUMNS, contract.ALERT_DATE_COLUMNS, contract.ALERT_FLOAT_COLUMNS)
    assert sorted(c for p in parts for c in p) == sorted(cols)
    assert set(contract.WARD_STATUS_REQUIRED) <= set(contract.WARD_STATUS_COLUMNS)
    assert set(contract.TRUTH_OPTIONAL) <= set(contract.TRUTH_COLUMNS)


@pytest.mark.parametrize(
    ("value", "figures", "words"),
    [
        (dt.date(2025, 3, 3), "03/03/2025", "3 March 2025"),
        (dt.datetime(2024, 12, 25, 23, 59), "25/12/2024", "25 December 2024"),
        ("2024-12-25", "25/12/2024", "25 December 2024"),
        ("2026-11-03T10:15:30.123456Z", "03/11/2026", "3 November 2026"),  # a store timestamp
        (None, "", ""),
        ("", "", ""),
    ],
)
def test_uk_dates(value, figures, words):
    assert contract.uk_date(value) == figures
    assert contract.long_date(value) == words


def _string_members(node: ast.AST) -> set[str] | None:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        elts = node.elts
    elif isinstance(node, ast.Dict):
        elts = [k for k in node.keys if k is not None]
    else:
        return None
    return {e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}


def test_no_module_restates_the_level_list_or_a_column_list():
    """A literal holding all four level names, or most of a contract column list, outside
    ``engine.contract`` is a second definition waiting to drift. (Dicts are records, not lists: a
    dict literal counts only for levels, e.g. a name -> word table.)"""
    columns = {
        "alerts.csv": (set(contract.ALERTS_CSV_COLUMNS), 8),
        "truth.csv": (set(contract.TRUTH_COLUMNS), 6),
        "ward_status.csv": (set(contract.WARD_STATUS_COLUMNS), 6),
    }
    levels = set(contract.LEVEL_NAMES)
    found = []
    for name, path in module_files().items():
        if name == "engine.contract" or name.startswith("engine.contract."):
            continue
        for node in ast.walk(parsed(path)):
            members = _string_members(node)
            if not members:
                continue
            if levels <= members:
                found.append(f"{name}:{node.lineno} restates the levels")
            if isinstance(node, ast.Dict):
                continue
            for what, (vocab, most) in columns.items():
                if len(members & vocab) >= most:
                    found.append(f"{name}:{node.lineno} restates the {what} columns")
    assert found == []


def test_the_restatement_check_sees_a_restatement():
    tree = ast.parse('LEVELS = ("none", "watch", "concern", "urgent")\nWORDS = {"none": 1, "watch": 2}')
    literals = [m for n in ast.walk(tree) if (m := _string_members(n))]
    assert set(contract.LEVEL_NAMES) in literals


def test_observation_status_codes():
    labels = contract.STATUS_LABELS
    assert [
        labels[c] for c in (contract.OBSERVED, contract.SUPPRESSED, contract.MISSING, contract.UNKNOWN)
    ] == [
        "observed",
        "suppressed",
        "missing",
        "unknown",
    ]
    assert contract.ROW_STATUS_LABELS == ("observed", "suppressed", "unknown")  # a file never says "missing"
    # the canonical frame is the file's columns plus the status
    assert tuple(contract.OBSERVATION_SCHEMA) == (*contract.OBSERVATION_FILE_COLUMNS, "status")


def _outside_contract() -> dict[str, ast.Module]:
    return {
        name: parsed(path)
        for name, path in module_files().items()
        if name != "engine.contract" and not name.startswith("engine.contract.")
    }


def test_the_row_statuses_and_date_formats_are_not_restated():
    """The statuses a row may state and the dates people type are spelled only in the contract
    (``ROW_STATUS_LABELS``, ``UK_DATE_FORMAT``, ``INPUT_DATE_FORMATS``)."""
    statuses = set(contract.ROW_STATUS_LABELS)
    found = []
    for name, tree in _outside_contract().items():
        for node in ast.walk(tree):
            members = _string_members(node)
            if members and not isinstance(node, ast.Dict) and statuses <= members:
                found.append(f"{name}:{node.lineno} restates the row statuses")
            if isinstance(node, ast.Constant) and node.value == contract.UK_DATE_FORMAT:
                found.append(f"{name}:{node.lineno} spells the UK date format")
    assert found == []
    assert contract.INPUT_DATE_FORMATS == (contract.ISO_DATE_FORMAT, contract.UK_DATE_FORMAT)
    assert (
        contract.parse_input_date("03/03/2025")
        == contract.parse_input_date("2025-03-03")
        == dt.date(2025, 3, 3)
    )
    with pytest.raises(ValueError, match="YYYY-MM-DD or dd/mm/yyyy"):
        contract.parse_input_date("3 March 2025")


def test_the_dashboard_names_domain_columns_and_ward_types_once():
    """Domain evidence columns come from ``domain_score_column``; ward-type words from one table."""
    from dashboard.services.formatting import WARD_TYPE_LABELS
    from signals import WARD_TYPES

    assert contract.domain_score_column("staffing") == f"{contract.DOMAIN_SCORE_PREFIX}staffing"
    assert tuple(WARD_TYPE_LABELS) == tuple(WARD_TYPES)
    found = []
    for name, tree in _outside_contract().items():
        if not name.startswith("dashboard."):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.JoinedStr)
                and node.values
                and isinstance(node.values[0], ast.Constant)
                and node.values[0].value == contract.DOMAIN_SCORE_PREFIX
            ):
                found.append(f"{name}:{node.lineno} builds a domain column by hand")
            if (
                isinstance(node, ast.Dict)
                and name != "dashboard.services.formatting"
                and set(WARD_TYPES) <= (_string_members(node) or set())
            ):
                found.append(f"{name}:{node.lineno} restates the ward-type labels")
    assert found == []
