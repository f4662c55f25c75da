"""The gated provider factor: broad simultaneous shifts are removed, deteriorating minorities are not."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest

from engine.combine.provider import (
    ProviderCells,
    gated_common_mode_factor,
    provider_factor,
    scaled_common_mode_factor,
    wards_at_level,
)
from engine.scoring.settings import CombinationSettings

G, M, T = 12, 10, 156
ARGS = {"kappa": 5.0, "window": 4, "trim": 0.25, "share": 0.5, "min_ratio": 1.25, "min_wards": 3}


def _panel(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = np.full((G * M, T), 6.0)
    return rng.poisson(mu).astype(float), mu, np.repeat(np.arange(G), M)


def _gated(y: np.ndarray, mu: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    one = np.ones_like(mu)
    return gated_common_mode_factor(
        ProviderCells(y, mu, one, one, np.zeros(len(y), bool)), group, G, ARGS["kappa"], ARGS["window"],
        ARGS["trim"], ARGS["share"], ARGS["min_ratio"], ARGS["min_wards"],
    )  # fmt: skip


def test_a_step_on_every_ward_opens_the_gate_and_is_removed():
    y, mu, group = _panel()
    rng = np.random.default_rng(2)
    y[:M, 80:] = rng.poisson(mu[:M, 80:] * 1.7)  # provider 0: a definition change
    f, gate = _gated(y, mu, group)
    assert gate[0, 80:84].max() == 1  # opens within one window of the step
    assert np.all(gate[0, 84:] == 1)  # and stays open while the shift lasts
    assert np.median(f[:M, 84:]) == pytest.approx(1.7, rel=0.1)
    assert np.all(gate[0, :80] == 0)


def test_a_fall_opens_the_gate_downwards():
    y, mu, group = _panel()
    rng = np.random.default_rng(3)
    y[M : 2 * M, 60:65] = rng.poisson(mu[M : 2 * M, 60:65] * 0.4)  # a reporting migration
    f, gate = _gated(y, mu, group)
    assert gate[1, 61:65].min() == -1
    assert np.all(gate[1, 75:] == 0)  # closes once reporting recovers
    assert np.median(f[M : 2 * M, 62:65]) < 0.7


@pytest.mark.parametrize("affected", [3, 4, 6])
def test_staggered_deterioration_of_a_minority_is_not_absorbed(affected: int):
    y, mu, group = _panel()
    rng = np.random.default_rng(4)
    rows = M * 2 + np.arange(affected)  # provider 2
    for i, w in enumerate(rows):
        onset = 50 + 6 * i
        ramp = np.clip((np.arange(T) - onset + 1) / 16, 0, 1)
        y[w] = rng.poisson(6.0 * 1.8**ramp)
    f, gate = _gated(y, mu, group)
    # from the first onset on: at most an isolated week passes the one-period test by chance, the
    # window-scale gate never opens, and the factor stays at 1 on (nearly) every week
    assert (gate[2, 50:] != 0).mean() < 0.03
    assert np.all(np.diff(np.flatnonzero(gate[2, 50:])) > 1)  # no two consecutive weeks
    assert f[rows, 50:].mean() < 1.03
    # the always-on leave-one-out factor absorbs part of the deterioration
    one = np.ones_like(mu)
    loo = scaled_common_mode_factor(ProviderCells(y, mu, one, one, np.zeros(len(y), bool)), group, G, 5.0)
    assert loo[rows, 120:].mean() > 1.1


def test_in_control_the_gate_is_rarely_open():
    y, mu, group = _panel(seed=9)
    f, gate = _gated(y, mu, group)
    assert (gate != 0).mean() < 0.02
    assert np.all(f[np.repeat(gate == 0, M, axis=0)] == 1.0)


def test_no_look_ahead():
    y, mu, group = _panel()
    y[:M, 80:] *= 1.7
    full, gate = _gated(y, mu, group)
    cut, gate_cut = _gated(y[:, :90], mu[:, :90], group)
    np.testing.assert_array_equal(full[:, :90], cut)
    np.testing.assert_array_equal(gate[:, :90], gate_cut)


def test_provider_factor_dispatches_on_the_method():
    y, mu, group = _panel()
    one = np.ones_like(mu)
    none = np.zeros(len(y), bool)
    loo = provider_factor(
        y, mu, one, one, none, group, G, CombinationSettings(provider_method="leave_one_out")
    )
    np.testing.assert_array_equal(
        loo, scaled_common_mode_factor(ProviderCells(y, mu, one, one, none), group, G, 5.0)
    )
    gated = provider_factor(y, mu, one, one, none, group, G, CombinationSettings())
    np.testing.assert_array_equal(gated, _gated(y, mu, group)[0])
    with pytest.raises(ValueError):
        CombinationSettings(provider_trim=0.5)


def test_wards_at_level_and_the_provider_concern_alert():
    from engine.scoring.alerts import Context, provider_concern_alerts
    from signals import CATALOGUE

    level = np.zeros((5, 10), dtype=np.int8)
    level[0, 3:8] = 2
    level[1, 4:9] = 2
    level[2, 5:9] = 3
    level[3, 5:9] = 2  # another provider
    group = np.array([0, 0, 0, 1, 1])
    counts = wards_at_level(level, group, 2, 2)
    assert counts[0].tolist() == [0, 0, 0, 1, 2, 3, 3, 3, 2, 0]
    periods = np.datetime64("2024-01-01") + 7 * np.arange(10)
    ev = SimpleNamespace(ward_id=np.array(["A", "B", "C", "D", "E"]), level=level, periods=periods)
    provider = {"A": "P1", "B": "P1", "C": "P1", "D": "P2", "E": "P2"}
    rows = provider_concern_alerts(ev, Context(CATALOGUE, CombinationSettings(), provider))  # type: ignore[arg-type]
    assert len(rows) == 1
    row = rows[0]
    assert (row["scope"], row["provider"], row["level"]) == ("provider", "P1", "concern")
    assert row["opened"] == str(periods[5]) and row["contributing"] == "A;B;C"
    assert "3 wards of P1 are at concern" in row["explanation"]
    assert dt.date.fromisoformat(row["opened"]).weekday() == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_gated_factor_equals_composed_arrays(seed: int) -> None:
    """The gate forms each cell inside the compiled kernel (hours over their dispersion on scaled
    rows): the same factor and gate, bit for bit, as dividing whole arrays first."""
    rng = np.random.default_rng(seed)
    s, t = G * M, 60
    rate = rng.uniform(0.5, 2.0, size=(s, 1)) * np.ones((1, t))
    n = rng.uniform(3, 8, size=(s, t))
    lift = np.where((np.arange(s) // M < G // 2)[:, None] & (np.arange(t) >= 30)[None, :], 1.8, 1.0)
    y = rng.poisson(rate * n * lift).astype(float)
    y[rng.random((s, t)) < 0.05] = np.nan
    rate[rng.random((s, t)) < 0.05] = np.nan
    scale = rng.uniform(0.5, 3.0, size=(s, t))
    scaled = rng.random(s) < 0.4
    group = np.repeat(np.arange(G), M)
    div = np.where(scaled[:, None], scale, 1.0)
    one = np.ones((s, t))

    def gate(cells: ProviderCells) -> tuple[np.ndarray, np.ndarray]:
        return gated_common_mode_factor(
            cells, group, G, ARGS["kappa"], int(ARGS["window"]), ARGS["trim"], ARGS["share"],
            ARGS["min_ratio"], int(ARGS["min_wards"]),
        )  # fmt: skip

    want, want_gate = gate(ProviderCells(y / div, rate * n / div, one, one, np.zeros(s, bool)))
    got, gate_open = gate(ProviderCells(y, rate, n, scale, scaled))
    assert (gate_open != 0).any() and (got != 1).any()  # gates opened: the trimmed sums were used
    assert got.tobytes() == want.tobytes()
    np.testing.assert_array_equal(gate_open, want_gate)
