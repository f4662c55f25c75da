"""Cold start (issue 21 item 2): wards without their own warm-up are monitored against their peers.

Synthetic trusts whose data start 0, 13 or 26 weeks before monitoring matters: closed-culture
episodes start 8 weeks after that. With the peer-based cold start the episodes are detected, and in
the first 26 weeks the wards without an episode stay within the calibrated false-alarm budget
(0.1 false concern alerts per ward-year; watch at most 0.5 openings per ward-year).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import Config
from engine.scoring.run import evidence_frames
from synthetic.frames import write_trust
from synthetic.generator import generate
from synthetic.spec import MessSettings, ScenarioSettings, TrustSpec

WEEKS_PER_YEAR = 365.25 / 7


def _trust(tmp_path, history: int):
    from engine.evaluate.truth import read_truth
    from engine.io.dataset import load_dataset

    spec = TrustSpec(
        n_wards=160,
        n_weeks=history + 8 + 44,
        mess=MessSettings.none(),
        scenarios=ScenarioSettings.from_spec("closed_culture=30", min_onset_week=history + 8),
    )
    write_trust(generate(spec, seed=3), tmp_path)
    load = load_dataset(tmp_path / "observations.csv", tmp_path / "wards.csv", tmp_path / "events.csv")
    return load, read_truth(tmp_path / "truth.csv")


def _outcome(load, truth, cfg: Config, history: int) -> dict[str, float]:
    _, ev, _, _ = evidence_frames(load.coded, load.wards, load.events, load.cadence, cfg)
    ep = truth.filter(truth["role"] == "episode")
    w = np.searchsorted(ev.ward_id, ep["ward_id"].to_numpy().astype(str))
    onset = (ep["onset"].to_numpy().astype("datetime64[D]") - ev.periods[0].astype("datetime64[D]")).astype(
        int
    ) // 7
    t = np.arange(ev.level.shape[1])[None, :]
    after = t >= onset[:, None]

    def first(cond: np.ndarray) -> np.ndarray:
        hit = cond[w] & after
        return np.where(hit.any(axis=1), np.argmax(hit, axis=1) - onset, 999)

    clean = np.ones(len(ev.ward_id), dtype=bool)
    clean[w] = False
    window = slice(history, history + 26)

    def openings_per_year(cond: np.ndarray) -> float:
        c = cond[clean][:, window]
        opened = c[:, 0].sum() + (c[:, 1:] & ~c[:, :-1]).sum()
        return float(opened / (c.size / WEEKS_PER_YEAR))

    return {
        "concern_by_20": float(np.mean(first(ev.level >= 2) < 20)),
        "watch_by_16": float(np.mean(first(ev.level >= 1) < 16)),
        "false_concern": openings_per_year(ev.level >= 2),
        "false_watch": openings_per_year(ev.level >= 1),
    }


@pytest.mark.parametrize("history", [0, 13, 26])
def test_new_wards_monitored_from_their_first_weeks(tmp_path, history):
    load, truth = _trust(tmp_path, history)
    cfg = Config()
    got = _outcome(load, truth, cfg, history)
    # the false-alarm budget holds in the first 26 weeks, peer-based periods included (about 65
    # clean ward-years per trust: Monte Carlo SE ~0.04 on concern, ~0.08 on watch; measured with the
    # provider / national prior 0.046 / 0.077 / 0.077 concern and 0.15 / 0.20 / 0.32 watch for 0 / 13 /
    # 26 weeks of history; 0.062 / 0.077 / 0.062 and 0.15 / 0.17 / 0.32 with ward-type peers only)
    assert got["false_concern"] <= 0.1
    assert got["false_watch"] <= 0.5
    # episodes starting 8 weeks in are detected (ramps last 12-24 weeks, so not all within 16
    # weeks; measured watch within 16 weeks 60% / 70% / 67%, concern within 20 weeks 53% / 67% / 57%,
    # the same with ward-type peers only: this generator has no provider effects)
    assert got["watch_by_16"] >= 0.5
    assert got["concern_by_20"] >= 0.4
    if history == 0:
        # without the cold start nothing is scored before week 26: the same episodes go unseen
        off = dataclasses.replace(cfg, baselines=dataclasses.replace(cfg.baselines, cold_start=False))
        old = _outcome(load, truth, off, history)
        # (measured 30% at watch within 16 weeks and 20% at concern within 20 weeks)
        assert got["watch_by_16"] >= old["watch_by_16"] + 0.2
        assert got["concern_by_20"] >= old["concern_by_20"] + 0.2


def test_explanation_says_when_the_comparison_is_against_peers(tmp_path):
    from engine.scoring.run import score_frames

    load, _ = _trust(tmp_path, 0)
    res = score_frames(load.coded, load.wards, load.events, load.cadence, Config())
    text = " ".join(str(x) for x in res.alerts["explanation"].to_list() if x)
    assert "on similar wards (compared with its peers" in text
