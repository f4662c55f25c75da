"""A small synthetic trust, scored once per test session."""

from __future__ import annotations

import pytest

from engine.io import load_dataset
from engine.scoring.run import score
from synthetic import ScenarioSettings, TrustSpec, generate, write_trust


@pytest.fixture(scope="session")
def trust_files(tmp_path_factory):
    scenarios = ScenarioSettings.from_spec(
        "closed_culture=2,concealment=1,acute_patient=1,staffing_crisis=1,definition_change=1"
    )
    spec = TrustSpec(n_wards=20, n_weeks=120, wards_per_provider=7, scenarios=scenarios)
    trust = generate(spec, seed=11)
    out = tmp_path_factory.mktemp("trust")
    paths = write_trust(trust, out)
    return trust, paths


@pytest.fixture(scope="session")
def loaded(trust_files):
    _, paths = trust_files
    return load_dataset(paths["observations"], paths["wards"], paths["events"])


@pytest.fixture(scope="session")
def scored(loaded):
    return score(loaded)
