"""A quiet, meaningful watch (issue 26 item 4), checked by simulation.

In control, at most 5% of ward-weeks at ``watch`` or above and at most 0.5 false watch openings per
ward-year with the default (calibrated) configuration. The former rule, where any single indicator
alert raised the ward to watch, is far noisier on the same trust.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.alerting import openings
from engine.config import Config
from engine.scoring.run import evidence_frames
from synthetic.frames import write_trust
from synthetic.generator import generate
from synthetic.spec import ScenarioSettings, TrustSpec


@pytest.fixture(scope="module")
def in_control(tmp_path_factory):
    from engine.io.dataset import load_dataset

    path = tmp_path_factory.mktemp("in_control")
    spec = TrustSpec(n_wards=120, n_weeks=130, scenarios=ScenarioSettings.from_spec("none"))
    write_trust(generate(spec, seed=17), path)
    return load_dataset(path / "observations.csv", path / "wards.csv", path / "events.csv")


def _watch(load, cfg: Config) -> tuple[float, float]:
    _, ev, _, _ = evidence_frames(load.coded, load.wards, load.events, load.cadence, cfg)
    monitored = np.arange(ev.level.shape[1])[None, :] >= ev.first_period[:, None]
    watch = (ev.level >= 1) & monitored
    opened = openings(watch, cfg.combination.close_after).sum()
    share = watch.sum() / monitored.sum()
    return float(share), float(opened / (monitored.sum() / (365.25 / 7)))


def test_in_control_watch_is_quiet(in_control):
    share, per_year = _watch(in_control, Config())
    assert share <= 0.05
    assert per_year <= 0.5


def test_indicator_alerts_raising_watch_is_the_noisy_former_rule(in_control):
    cfg = Config()
    old = dataclasses.replace(
        cfg, combination=dataclasses.replace(cfg.combination, watch_on_indicator_alerts=True)
    )
    share, per_year = _watch(in_control, old)
    new_share, new_per_year = _watch(in_control, cfg)
    assert share > 2 * new_share and per_year > new_per_year
