"""Files on disk: determinism, the loader accepts every row, truth consistency, and the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json

import numpy as np
import polars as pl
import pytest
from synth_helpers import row_profile, truth_multiplier

from engine.cli import main
from engine.contract.truth import TRUTH_COLUMNS
from engine.io import load_dataset
from engine.panel import OBSERVATION_SCHEMA
from signals import CATALOGUE, WARD_INDICATORS, WARD_TYPES
from synthetic import (
    DEFAULT_SCENARIOS,
    SCENARIO_KINDS,
    MessSettings,
    TrustSpec,
    generate,
    parse_scenarios,
    write_trust,
)

SMALL = TrustSpec(n_wards=24, n_weeks=120)


def _hashes(paths) -> dict[str, str]:
    return {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in paths.items()}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_identical_files_different_seed_differs(tmp_path, fmt):
    a = _hashes(write_trust(generate(SMALL, seed=7), tmp_path / "a", fmt))
    b = _hashes(write_trust(generate(SMALL, seed=7), tmp_path / "b", fmt))
    c = _hashes(write_trust(generate(SMALL, seed=8), tmp_path / "c", fmt))
    assert a == b
    assert a["observations"] != c["observations"]
    assert a["truth"] != c["truth"]


@pytest.mark.parametrize(
    ("suppression", "fmt"), [(False, "csv"), (True, "csv"), (False, "parquet"), (True, "parquet")]
)
def test_generated_output_passes_the_loader(tmp_path, suppression, fmt):
    trust = generate(TrustSpec(mess=MessSettings(suppression=suppression)), seed=3)
    paths = write_trust(trust, tmp_path, fmt)
    result = load_dataset(paths["observations"], paths["wards"], paths["events"])
    assert result.rejected.height == 0, result.rejected.head(5)
    assert result.observations.height == trust.frame.height
    assert result.wards.height == trust.spec.n_wards
    assert result.events.height == trust.events.height
    assert {k: result.cadence[k] for k in WARD_INDICATORS} == {
        k: CATALOGUE[k].cadence for k in WARD_INDICATORS
    }
    # the loader's canonical frame is exactly the generator's (numbers survive the text round trip)
    ours = trust.frame.sort("ward_id", "indicator", "period")
    theirs = result.observations.select(list(OBSERVATION_SCHEMA)).sort("ward_id", "indicator", "period")
    assert theirs.equals(ours)


def test_frame_follows_the_canonical_schema(demo_trust):
    assert dict(demo_trust.frame.schema) == OBSERVATION_SCHEMA
    assert demo_trust.observations.columns == ["ward_id", "period", "indicator", "numerator", "denominator"]
    periods = demo_trust.frame["period"]
    weekly = demo_trust.frame.filter(pl.col("indicator") == "restraint")["period"]
    monthly = demo_trust.frame.filter(pl.col("indicator") == "vacancy_rate")["period"]
    assert (weekly.dt.weekday() == 1).all()  # Mondays
    assert (monthly.dt.day() == 1).all()
    assert periods.min() >= dt.date(2022, 1, 1)
    assert set(demo_trust.wards["ward_type"]) <= set(WARD_TYPES)
    beds = demo_trust.wards["beds"]
    assert beds.min() >= 8 and beds.max() <= 24
    assert demo_trust.wards["provider"].n_unique() == 4


def test_truth_is_consistent_with_the_data(demo_trust):
    t = demo_trust
    truth = t.truth
    assert tuple(truth.columns) == TRUTH_COLUMNS  # the names themselves: tests/contract
    assert truth["episode_id"].is_unique().all()
    assert set(truth["ward_id"]) <= set(t.wards["ward_id"])
    assert set(truth["kind"]) <= {*SCENARIO_KINDS, "reconfiguration"}
    weeks = set(t.calendar.weeks.astype(dt.date).tolist())
    checked_hours = 0
    for row in truth.iter_rows(named=True):
        assert row["onset"] in weeks and row["full_effect"] in weeks
        assert row["onset"] <= row["full_effect"]
        if row["end"] is not None:
            assert row["end"] in weeks and row["full_effect"] <= row["end"]
        eff = json.loads(row["effects"])
        assert row["indicators"].split(";") == [k for k in WARD_INDICATORS if k in eff]
        w = int(np.flatnonzero(t.ward_ids == row["ward_id"])[0])
        fe = int(np.searchsorted(t.calendar.weeks, np.datetime64(row["full_effect"], "D")))
        for key, m in eff.items():
            if key == "manager_changes":
                assert m["add"] == 1
                continue
            a = t.arrays[key]
            if a.cadence == "weekly" and key != "seclusion_hours":
                # the latent multiplier is the product of every truth row on this ward and indicator
                assert a.multiplier[w, fe] == pytest.approx(truth_multiplier(t, key)[w, fe], rel=1e-9)
                assert row_profile(t, row, key)[fe] == pytest.approx(m, rel=1e-9)
            elif key == "seclusion_hours":  # derived: ratio with / without this episode, 3 decimals
                others = t.truth.filter(
                    (pl.col("ward_id") == row["ward_id"])
                    & (pl.col("episode_id") != row["episode_id"])
                    & pl.col("indicators").str.contains("seclusion|segregation")
                )
                if others.height == 0:  # alone on this ward: the latent ratio is the stated one
                    assert a.multiplier[w, fe] == pytest.approx(m, abs=5e-4)
                    checked_hours += 1
    assert checked_hours >= 1
    # the default demo has every kind of its scenario spec and ward-level episodes never share a ward
    assert set(truth["kind"]) == {*parse_scenarios(DEFAULT_SCENARIOS), "reconfiguration"}
    assert set(parse_scenarios(DEFAULT_SCENARIOS)) <= set(SCENARIO_KINDS)
    ward_level = truth.filter(pl.col("group_id").is_unique())
    assert ward_level["ward_id"].is_unique().all()


def test_default_episodes_do_not_overlap_on_a_ward():
    """Across seeds, no ward carries two episodes whose change windows overlap."""
    for seed in range(6):
        t = generate(seed=seed)
        T = t.calendar.weeks.size
        for ward, rows in t.truth.group_by("ward_id"):
            spans = []
            for row in rows.iter_rows(named=True):
                lo = int(np.searchsorted(t.calendar.weeks, np.datetime64(row["onset"], "D")))
                if row["kind"] in ("definition_change", "reconfiguration"):
                    hi = lo
                elif row["end"] is None:
                    hi = T - 1
                else:
                    hi = int(np.searchsorted(t.calendar.weeks, np.datetime64(row["end"], "D")))
                spans.append((lo, hi))
            spans.sort()
            for (_, hi1), (lo2, _) in itertools.pairwise(spans):
                assert hi1 < lo2, (seed, ward)
        onsets = t.truth.filter(pl.col("kind") != "reconfiguration")["onset"]
        assert min(onsets) >= t.spec.start + dt.timedelta(weeks=40)


# ---------------------------------------------------------------------------------- CLI
def test_cli_writes_a_trust(tmp_path, capsys):
    out = tmp_path / "trust"
    code = main(
        ["synth", "--out", str(out), "--wards", "12", "--weeks", "90", "--seed", "3",
         "--scenarios", "closed_culture=1,acute_patient=1"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "12 wards x 90 weeks" in printed
    for name in ("observations.csv", "wards.csv", "events.csv", "truth.csv"):
        assert (out / name).exists()
    truth = pl.read_csv(out / "truth.csv")
    assert sorted(truth["kind"].unique().to_list()) in (
        ["acute_patient", "closed_culture"],
        ["acute_patient", "closed_culture", "reconfiguration"],
    )
    obs = pl.read_csv(
        out / "observations.csv", schema_overrides={"numerator": pl.String, "denominator": pl.String}
    )
    assert obs.columns == ["ward_id", "period", "indicator", "numerator", "denominator"]


def test_cli_options(tmp_path):
    out = tmp_path / "p"
    code = main(
        ["synth", "--out", str(out), "--wards", "10", "--weeks", "60", "--scenarios", "none",
         "--no-mess", "--suppression", "--format", "parquet"]
    )  # fmt: skip
    assert code == 0
    obs = pl.read_parquet(out / "observations.parquet")
    assert (obs["numerator"] == "*").any()
    assert pl.read_csv(out / "truth.csv").height == 0
    assert obs.height == 10 * 60 * 17 + 10 * 14 * 5 + obs.filter(pl.col("indicator") == "cetr_overdue").height
    monthly = tmp_path / "m"
    assert main(["synth", "--out", str(monthly), "--wards", "10", "--weeks", "60", "--scenarios", "none",
                 "--no-mess", "--workforce-cadence", "monthly"]) == 0  # fmt: skip
    agency = pl.read_csv(monthly / "observations.csv", infer_schema=False).filter(
        pl.col("indicator") == "agency_use"
    )
    assert agency.height == 10 * 14 and agency["period"].str.ends_with("-01").all()  # one row a month


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenarios", "closed_cultur=1"], "unknown scenario kind"),
        (["--start", "2024-01-02"], "not a Monday"),
        (["--wards", "0"], "positive"),
        (["--wards", "3", "--scenarios", "closed_culture=5"], "no ward left"),
    ],
)
def test_cli_errors_exit_2_with_one_line(tmp_path, capsys, argv, message):
    code = main(["synth", "--out", str(tmp_path / "x"), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
