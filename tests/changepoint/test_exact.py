"""Exactness: the compiled PELT equals brute-force optimal partitioning and (where exact) ruptures."""

from __future__ import annotations

import numpy as np
import pytest
import ruptures as rpt

from engine.changepoint import ChangePointSettings, detect_changepoints
from engine.changepoint.penalty import penalty_terms
from tests.changepoint.reference import RupturesCost, brute_force, dropped_constant


def _series(model: str, seed: int, t_count: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Random series with 0-2 level changes and ~10% missing periods."""
    rng = np.random.default_rng(seed)
    level = np.full(t_count, rng.uniform(0.2, 0.6))
    for cut in rng.choice(np.arange(8, t_count - 8), size=rng.integers(0, 3), replace=False):
        level[cut:] *= rng.choice([0.4, 2.0])
    if model == "poisson":
        n = rng.uniform(3.0, 15.0, t_count)
        y = rng.poisson(level * n).astype(float)
    elif model == "binomial":
        n = rng.integers(2, 20, t_count).astype(float)
        y = rng.binomial(n.astype(int), np.clip(level, 0.01, 0.99)).astype(float)
    else:
        n = np.ones(t_count)
        y = rng.normal(level * 5, 1.0)
    y[rng.random(t_count) < 0.1] = np.nan
    return y, n


@pytest.mark.parametrize("model", ["poisson", "binomial", "normal"])
@pytest.mark.parametrize(
    ("penalty", "min_size"), [("bic", 1), ("mbic", 3), ("set", 6), ("bic", 6), ("mbic", 1)]
)
def test_equals_brute_force(model: str, penalty: str, min_size: int) -> None:
    y = np.vstack([_series(model, seed)[0] for seed in range(12)])
    n = np.vstack([_series(model, seed)[1] for seed in range(12)])
    settings = ChangePointSettings(
        cost=model, penalty=penalty, penalty_value=4.0, min_size=min_size, dispersion="none", sigma=1.0
    )
    res = detect_changepoints(y, n, settings)
    for i in range(y.shape[0]):
        m = int(np.isfinite(y[i]).sum())
        beta, lam = penalty_terms(penalty, np.array([m]), 1, 4.0)
        cps, objective = brute_force(y[i], n[i], model, float(beta[0]), float(lam[0]), min_size)
        obs = np.isfinite(y[i])
        objective -= dropped_constant(model, y[i][obs], n[i][obs])
        assert res.change_points(i) == cps, (i, res.change_points(i), cps)
        assert res.objective[i] == pytest.approx(objective, rel=1e-9, abs=1e-9)


def test_dispersion_scale_equals_brute_force_with_scaled_cost() -> None:
    y = np.vstack([_series("poisson", seed, 40)[0] for seed in range(20, 30)])
    n = np.vstack([_series("poisson", seed, 40)[1] for seed in range(20, 30)])
    phi = 1.7
    res = detect_changepoints(
        y, n, ChangePointSettings(penalty="set", penalty_value=3.0, min_size=2), phi=phi
    )
    for i in range(y.shape[0]):
        cps, _ = brute_force(y[i], n[i], "poisson", 3.0, 0.0, 2, scale=1.0 / phi)
        assert res.change_points(i) == cps


def _ruptures_bkps(y: np.ndarray, n: np.ndarray, family: str, min_size: int, pen: float) -> list[int]:
    algo = rpt.Pelt(custom_cost=RupturesCost(family), min_size=min_size, jump=1)
    return algo.fit(np.column_stack([y, n])).predict(pen=pen)


@pytest.mark.parametrize("family", ["poisson", "binomial"])
@pytest.mark.parametrize("min_size", [1, 6])
def test_equals_ruptures_pelt_with_equivalent_cost(family: str, min_size: int) -> None:
    """Same segmentation as ruptures' Pelt (jump=1, same min_size, BIC penalty) on a handful of series."""
    rng = np.random.default_rng(7)
    t_count = 104
    for _ in range(6):
        if family == "poisson":
            n = rng.uniform(50, 150, t_count)
            rate = np.where(np.arange(t_count) < rng.integers(20, 84), 0.02, rng.choice([0.01, 0.04]))
            y = rng.poisson(rate * n).astype(float)
        else:
            n = rng.integers(20, 60, t_count).astype(float)
            p = np.where(np.arange(t_count) < rng.integers(20, 84), 0.2, rng.choice([0.1, 0.35]))
            y = rng.binomial(n.astype(int), p).astype(float)
        pen = 2 * np.log(t_count)
        ours = detect_changepoints(
            y, n, ChangePointSettings(cost=family, penalty="bic", min_size=min_size, dispersion="none")
        ).bkps(0)
        assert ours == _ruptures_bkps(y, n, family, min_size, pen)


def test_ruptures_immediate_pruning_is_not_exact_with_min_size() -> None:
    """A documented discrepancy: ruptures prunes at once, which can lose the optimum when min_size > 1.

    On this series (found by search, fixed seed) ruptures returns a segmentation whose penalised
    cost is higher than ours; ours equals brute-force optimal partitioning.
    """
    rng = np.random.default_rng(2)
    found = 0
    for _ in range(400):
        t_count = 50
        n = rng.uniform(5, 20, t_count)
        cut = rng.integers(5, 45)
        rate = np.where(np.arange(t_count) < cut, rng.uniform(0.1, 1), rng.uniform(0.1, 1))
        y = rng.poisson(rate * n).astype(float)
        min_size, pen = int(rng.integers(2, 8)), float(rng.uniform(0.5, 10))
        ours = detect_changepoints(
            y, n, ChangePointSettings(penalty="set", penalty_value=pen, min_size=min_size, dispersion="none")
        )
        theirs = _ruptures_bkps(y, n, "poisson", min_size, pen)
        if theirs != ours.bkps(0):
            found += 1
            cost = RupturesCost().fit(np.column_stack([y, n]))
            theirs_objective = cost.sum_of_costs(theirs) + pen * (len(theirs) - 1)
            assert ours.objective[0] < theirs_objective - 1e-9
            assert ours.change_points(0) == brute_force(y, n, "poisson", pen, 0.0, min_size)[0]
    assert found >= 1  # ruptures 1.1.10: 6 of these 400 series


def test_coal_mining_anchor() -> None:
    """sequential-methods.md 1.9: Poisson PELT on the coal-mining series, BIC -> [41, 96], MBIC -> [41]."""
    coal = np.array(
        [4, 5, 4, 0, 1, 4, 3, 4, 0, 6, 3, 3, 4, 0, 2, 6, 3, 3, 5, 4, 5, 3, 1, 4, 4, 1, 5, 5, 3, 4,
         2, 5, 2, 2, 3, 4, 2, 1, 3, 2, 2, 1, 1, 1, 1, 3, 0, 0, 1, 0, 1, 1, 0, 0, 3, 1, 0, 3, 2, 2,
         0, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 1, 0, 2, 3, 3, 1, 1, 2, 1, 1, 1, 1, 2,
         4, 2, 0, 0, 1, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1],
        dtype=float,
    )  # fmt: skip
    assert coal.size == 111
    bic = detect_changepoints(coal, None, ChangePointSettings(penalty="bic", min_size=1, dispersion="none"))
    mbic = detect_changepoints(coal, None, ChangePointSettings(penalty="mbic", min_size=1, dispersion="none"))
    assert bic.bkps(0) == [41, 96, 111]
    assert mbic.bkps(0) == [41, 111]
    assert mbic.rates == pytest.approx([coal[:41].mean(), coal[41:].mean()])
