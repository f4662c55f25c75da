"""Broad decoys: escalations inside a culture episode are the episode's; chance is stated."""

from __future__ import annotations

import pytest

from engine.evaluate.grid import WEEKS_PER_YEAR
from engine.evaluate.scenarios import PROVIDER_DECOY_SCHEMA, provider_decoy_table
from tests.evaluate.helpers import levels, write_status, write_truth

WEEKS = 80


def _trust(tmp_path):
    wards = {w: {} for w in ("A", "B", "C", "D", "E")}
    wards["B"] = levels([(15, 18, "concern")])  # inside B's closed-culture window: the episode's
    wards["C"] = levels([(20, 22, "concern")])  # inside the decoy window: the decoy's
    wards["D"] = levels([(60, 62, "concern")])  # after the decoy window: a background false alert
    wards["E"] = levels([(70, 71, "concern")])  # a ward without any truth row: background too
    write_status(tmp_path / "results", wards, WEEKS)
    group = [{"ward_id": w, "kind": "definition_change", "onset": 10, "group_id": "G1",
              "effects": {"restraint": 1.5}} for w in ("A", "B", "C", "D")]  # fmt: skip
    episode = [{"ward_id": "B", "kind": "closed_culture", "onset": 12, "end": 30, "group_id": "G2",
                "effects": {"restraint": 2.0}}]  # fmt: skip
    return write_truth(tmp_path / "truth.csv", group + episode)


def test_escalations_inside_a_culture_episode_are_not_the_decoys(tmp_path):
    truth = _trust(tmp_path)
    table = provider_decoy_table(truth, tmp_path / "results")
    assert table.schema == PROVIDER_DECOY_SCHEMA
    row = table.row(0, named=True)
    assert (row["group_id"], row["wards"]) == ("G1", 4)
    assert row["wards_escalated"] == 1  # C only; B's opening belongs to its closed culture
    assert row["wards_in_culture_episode"] == 1


def test_expected_by_chance_is_the_background_rate_over_the_decoys_ward_time(tmp_path):
    truth = _trust(tmp_path)
    row = provider_decoy_table(truth, tmp_path / "results").row(0, named=True)
    # background: D's and E's openings outside every window, per ward-year outside every window
    # (A, C, D: 80 weeks less the decoy window 10..36; B: less 10..38 (episode end 30 + 8 weeks
    # grace); E: 80 weeks)
    outside_weeks = 3 * (80 - 27) + (80 - 29) + 80
    background = 2 / (outside_weeks / WEEKS_PER_YEAR)
    # the decoy's ward-time outside culture episodes: A, C, D 27 weeks each (10..36); B only weeks
    # 10 and 11 (its episode's window is 12..38)
    counted = 3 * 27 + 2
    assert row["expected_by_chance"] == pytest.approx(background * counted / WEEKS_PER_YEAR)
