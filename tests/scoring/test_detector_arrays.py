"""Every cell of the detector arrays that :meth:`DetectorArrays.empty` leaves unset is written by the
indicators' scoring: scoring into arrays full of garbage gives the same results as scoring into the
reference arrays set up front (:meth:`DetectorArrays.filled`)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest

from engine.config import Config
from engine.scoring import indicators
from engine.scoring.indicators import UNWATCHED_FILL, DetectorArrays, DetectorOutputs, ExpectedPanel
from engine.scoring.run import evidence_frames
from engine.scoring.settings import IndicatorSettings
from synthetic.frames import write_trust
from synthetic.generator import generate
from synthetic.spec import ScenarioSettings, TrustSpec

_EMPTY, _FILLED = DetectorArrays.empty, DetectorArrays.filled


def _poisoned(s_count: int, t_count: int) -> DetectorArrays:
    """:meth:`DetectorArrays.empty` with its unset arrays full of values no detector writes."""
    out = _EMPTY(s_count, t_count)
    for name in UNWATCHED_FILL:
        getattr(out, name)[...] = 12345
    return out


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory):
    from engine.io.dataset import load_dataset

    path = tmp_path_factory.mktemp("trust")
    spec = TrustSpec(n_wards=24, n_weeks=70, scenarios=ScenarioSettings.from_spec("closed_culture=2"))
    write_trust(generate(spec, seed=5), path)
    return load_dataset(path / "observations.csv", path / "wards.csv", path / "events.csv")


def test_unset_arrays_are_written_everywhere(load, monkeypatch: pytest.MonkeyPatch) -> None:
    # a disabled indicator (left out of the panels) and an EWMA-alerting one besides up / down /
    # both / context indicators
    settings = {
        "complaints": IndicatorSettings(enabled=False),
        "agency_use": IndicatorSettings(detector="ewma"),
    }
    cfg = dataclasses.replace(Config(), indicators=settings)

    def parts(make) -> dict:
        monkeypatch.setattr(indicators.DetectorArrays, "empty", classmethod(lambda cls, s, t: make(s, t)))
        scored, _, _, _ = evidence_frames(load.coded, load.wards, load.events, load.cadence, cfg)
        return scored

    got, ref = parts(_poisoned), parts(_FILLED)
    assert set(got) == set(ref) == {"weekly", "monthly"}
    for cadence, scores in ref.items():
        for f in dataclasses.fields(DetectorOutputs):
            a, b = getattr(got[cadence], f.name), getattr(scores, f.name)
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (cadence, f.name)
        assert np.isnan(scores.cusum_down[scores.direction == "up"]).all()  # the reference has its fill


def test_unwatched_indicators_get_the_unwatched_values() -> None:
    """Context and disabled indicators (not in the scoring panels, but callers may pass them) get
    the reference's values on their rows and leave other rows alone."""
    catalogue = Config().build_catalogue()
    keys = np.array(["people_detained", "restraint", "people_detained", "complaints"])
    # only the panel's indicator keys are read for an unwatched indicator
    expected = cast(ExpectedPanel, SimpleNamespace(panel=SimpleNamespace(indicator=keys)))
    out = _poisoned(4, 6)
    combination = Config().combination
    indicators.score_indicator(out, expected, catalogue["people_detained"], IndicatorSettings(), combination)
    indicators.score_indicator(
        out, expected, catalogue["complaints"], IndicatorSettings(enabled=False), combination
    )
    ref = _FILLED(4, 6)
    for name in UNWATCHED_FILL:
        a, b = getattr(out, name), getattr(ref, name)
        assert a[[0, 2, 3]].tobytes() == b[[0, 2, 3]].tobytes(), name
        assert (a[1] == 12345).all()  # not this indicator's row
