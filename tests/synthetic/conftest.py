"""Shared synthetic trusts (module-level caching keeps the area fast)."""

from __future__ import annotations

import dataclasses
import functools

import pytest

from synthetic import MessSettings, ScenarioSettings, SyntheticTrust, TrustSpec, generate


@functools.cache
def in_control(n_wards: int = 400, n_weeks: int = 156, seed: int = 11) -> SyntheticTrust:
    """No scenarios, no mess: the long in-control run."""
    spec = TrustSpec(
        n_wards=n_wards,
        n_weeks=n_weeks,
        mess=MessSettings.none(),
        scenarios=ScenarioSettings.from_spec("none"),
    )
    return generate(spec, seed=seed)


MANY_EPISODES = TrustSpec(
    n_wards=120,
    n_weeks=156,
    mess=MessSettings.none(),
    scenarios=ScenarioSettings.from_spec(
        "closed_culture=30,concealment=15,acute_patient=15,staffing_crisis=15,"
        "winter_pressure=1,definition_change=2,reporting_migration=2"
    ),
)


@functools.cache
def many_episodes(seed: int = 5, scenarios: bool = True) -> SyntheticTrust:
    """Many ward-level episodes on a clean trust (for effect-size checks); ``scenarios=False`` gives
    the same trust with nothing injected (its latent rates are the in-control counterfactual)."""
    spec = MANY_EPISODES
    if not scenarios:
        spec = dataclasses.replace(spec, scenarios=ScenarioSettings.from_spec("none"))
    return generate(spec, seed=seed)


@functools.cache
def demo(seed: int = 2, suppression: bool = False) -> SyntheticTrust:
    """The default demo trust (mess on)."""
    return generate(TrustSpec(mess=MessSettings(suppression=suppression)), seed=seed)


@pytest.fixture(scope="session")
def control() -> SyntheticTrust:
    return in_control()


@pytest.fixture(scope="session")
def episodes_trust() -> SyntheticTrust:
    return many_episodes()


@pytest.fixture(scope="session")
def demo_trust() -> SyntheticTrust:
    return demo()
