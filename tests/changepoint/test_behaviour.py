"""Behaviour: known changes recovered, NaN handling, truncation, results, dispersion, binomial cost."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from engine.changepoint import (
    ChangePointDetector,
    ChangePointSettings,
    detect_changepoints,
    detect_panel,
    estimate_dispersion,
)
from engine.changepoint.costs import segment_cost_numpy
from engine.panel import OBSERVATION_SCHEMA, build_panel


def _doubling(seed: int, s_count: int = 40, t_count: int = 260, cut: int = 120, phi: float = 1.0):  # type: ignore[no-untyped-def]
    """Weekly restraint-like counts: 0.02 per occupied bed day (~2/week), doubling at ``cut``."""
    rng = np.random.default_rng(seed)
    n = rng.uniform(70, 130, (s_count, t_count))
    mu = np.where(np.arange(t_count) < cut, 0.02, 0.04) * n
    if phi > 1:
        mu = rng.gamma(mu / (phi - 1), phi - 1)
    return rng.poisson(mu).astype(float), n


def test_known_change_recovered_with_rate_ratio_and_rebase() -> None:
    y, n = _doubling(1, phi=1.5)
    res = detect_changepoints(y, n)  # defaults: MBIC, min_size 6, dispersion estimated
    assert np.all(res.n_changes == 1)
    cps = np.array([res.change_points(i)[0] for i in range(y.shape[0])])
    assert np.mean(np.abs(cps - 120) <= 8) >= 0.9  # ~2 events/week, phi 1.5: dating is +-weeks
    assert np.median(np.abs(cps - 120)) <= 3
    eff = res.effect[res.starts]
    assert np.median(eff) == pytest.approx(2.0, rel=0.1)
    assert np.mean((eff > 1.5) & (eff < 2.7)) >= 0.9
    assert res.rebase[res.starts].mean() > 0.9
    assert np.median(res.phi) == pytest.approx(1.5, rel=0.1)
    # segment rates are the pooled rates of each segment
    i, c = 0, cps[0]
    assert res.segment_rate[i, 0] == pytest.approx(y[i, :c].sum() / n[i, :c].sum())
    assert res.segment_rate[i, -1] == pytest.approx(y[i, c:].sum() / n[i, c:].sum())
    assert res.bkps(i) == [c, 260]
    assert np.array_equal(res.segment_id[i], (np.arange(260) >= c).astype(np.int32))


def test_binomial_change_and_cost() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(30, 60, (20, 156)).astype(float)
    p = np.where(np.arange(156) < 80, 0.15, 0.3)
    y = rng.binomial(n.astype(int), p).astype(float)
    res = detect_changepoints(y, n, ChangePointSettings(cost="binomial"))
    assert np.all(res.n_changes == 1)
    assert all(abs(res.change_points(i)[0] - 80) <= 4 for i in range(20))
    # cost = -2 max log-likelihood minus the binomial coefficients
    yy, nn = y[0, :30], n[0, :30]
    full = -2 * stats.binom.logpmf(yy, nn.astype(int), yy.sum() / nn.sum()).sum()
    coef = -2 * (stats.binom.logpmf(yy, nn.astype(int), 0.5) - nn * np.log(0.5)).sum()  # -2 sum log C(n, y)
    assert segment_cost_numpy("binomial", yy.sum(), nn.sum(), 30) + coef == pytest.approx(full)
    with pytest.raises(ValueError, match="exceed"):
        detect_changepoints(
            np.array([[5.0, 1.0]]), np.array([[3.0, 3.0]]), ChangePointSettings(cost="binomial")
        )
    with pytest.raises(ValueError, match=">= 0"):
        detect_changepoints(np.array([[-1.0, 1.0]]), np.ones((1, 2)))


def test_nan_periods_are_skipped_and_mapped_back() -> None:
    y, n = _doubling(5, s_count=10, t_count=120, cut=60)
    rng = np.random.default_rng(9)
    holes = rng.random(y.shape) < 0.2
    holes[:, 58:62] = True  # the change falls in a gap
    y_nan = np.where(holes, np.nan, y)
    settings = ChangePointSettings(penalty="bic", dispersion="none")
    res = detect_changepoints(y_nan, n, settings)
    for i in range(10):
        keep = ~holes[i]
        dense = detect_changepoints(y[i, keep], n[i, keep], settings)
        mapped = [int(np.flatnonzero(keep)[c]) for c in dense.change_points(0)]
        assert res.change_points(i) == mapped  # same segmentation on the observed points
        assert res.objective[i] == pytest.approx(dense.objective[0])
        assert res.n_obs[i] == keep.sum()
        for c in res.change_points(i):
            assert not holes[i, c]  # a change starts at an observed period
            assert (
                res.segment_id[i, c - 1] == res.segment_id[i, c] - 1
            )  # the gap before belongs to the earlier segment
    # a series with nothing observed: one empty segment, no change, NaN rate
    empty = detect_changepoints(np.full((1, 30), np.nan), np.ones((1, 30)))
    assert empty.n_changes[0] == 0 and empty.bkps(0) == [30]
    assert np.all(np.isnan(empty.segment_rate))
    # zero or missing exposure = not observed (missing is never zero)
    n_bad = n.copy()
    n_bad[:, :10] = 0.0
    assert np.array_equal(detect_changepoints(y, n_bad).n_obs, np.full(10, 110))


def test_upto_reads_nothing_after_the_given_period() -> None:
    y, n = _doubling(11, s_count=8, t_count=200, cut=100)
    tail = y.copy()
    tail[:, 151:] = 0.0  # changing data after the cut-off must not matter
    a = detect_changepoints(y, n, upto=150)
    b = detect_changepoints(tail, n, upto=150)
    c = detect_changepoints(y[:, :151], n[:, :151])
    for res in (b, c):
        assert np.array_equal(a.starts, res.starts)
        assert np.array_equal(a.segment_rate, res.segment_rate)
        assert np.array_equal(a.phi, res.phi)
    assert a.starts.shape == (8, 151) and a.last_period == 150
    with pytest.raises(ValueError, match="upto"):
        detect_changepoints(y, n, upto=200)


def test_dispersion_estimate_is_robust_to_level_shifts() -> None:
    y, n = _doubling(2, s_count=300, phi=2.0)
    phi = estimate_dispersion(y, n, "poisson")
    assert np.median(phi) == pytest.approx(2.0, rel=0.1)
    y1, n1 = _doubling(4, s_count=300)  # Poisson with a doubling: a global Pearson statistic sees ~1.3
    pooled = y1.sum(axis=1, keepdims=True) / n1.sum(axis=1, keepdims=True) * n1
    pearson = (((y1 - pooled) ** 2 / pooled).sum(axis=1) / (y1.shape[1] - 1)).mean()
    assert pearson > 1.25
    assert np.median(estimate_dispersion(y1, n1, "poisson")) < 1.08
    # binomial: beta-binomial with known variance inflation
    rng = np.random.default_rng(6)
    trials, rho = 40, 0.05
    p = rng.beta(0.2 * (1 - rho) / rho, 0.8 * (1 - rho) / rho, (300, 200))
    yb = rng.binomial(trials, p).astype(float)
    phib = estimate_dispersion(yb, np.full_like(yb, trials), "binomial")
    assert np.median(phib) == pytest.approx(1 + (trials - 1) * rho, rel=0.1)


def test_normal_cost_on_measures() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(10.0, 2.0, (15, 150))
    x[:, 90:] += 3.0
    res = detect_changepoints(x, None, ChangePointSettings(cost="normal"))
    assert np.all(res.n_changes == 1)
    assert all(abs(res.change_points(i)[0] - 90) <= 6 for i in range(15))
    assert np.median(res.sigma) == pytest.approx(2.0, rel=0.15)
    assert np.all(res.effect[res.starts] > 1.0) and np.all(res.rebase[res.starts])
    flat = detect_changepoints(rng.normal(0, 1, (50, 150)), None, ChangePointSettings(cost="normal"))
    assert flat.n_changes.sum() <= 2


def test_detector_panel_and_mixed_families() -> None:
    periods = [dt.date(2024, 1, 1) + dt.timedelta(weeks=k) for k in range(80)]
    rng = np.random.default_rng(12)
    rows = []
    for ward in ("W1", "W2"):
        for k, p in enumerate(periods):
            obd = float(rng.integers(80, 120))
            rate = 0.02 if k < 40 or ward == "W2" else 0.06
            rows.append((ward, p, "restraint", float(rng.poisson(rate * obd)), obd, "observed"))
            shifts = float(rng.integers(40, 60))
            rows.append((ward, p, "agency_use", float(rng.binomial(int(shifts), 0.2)), shifts, "observed"))
    frame = pl.DataFrame(rows, schema=OBSERVATION_SCHEMA, orient="row")
    panel = build_panel(frame, "weekly")
    res = detect_panel(panel, ChangePointSettings(min_size=6))
    assert list(res.model) == ["binomial", "poisson", "binomial", "poisson"]
    restraint_w1 = int(np.flatnonzero((panel.ward_id == "W1") & (panel.indicator == "restraint"))[0])
    assert res.n_changes[restraint_w1] == 1
    assert abs(res.change_points(restraint_w1)[0] - 40) <= 3
    assert res.n_changes.sum() == 1
    est = ChangePointDetector(settings=ChangePointSettings()).fit(
        panel.y, panel.n, family=["binomial", "poisson"] * 2
    )
    assert np.array_equal(est.result_.starts, res.starts)
    # flat indices and dense arrays agree
    assert res.indptr[-1] == res.ends.size == (res.n_changes + 1).sum()


def test_settings_validation() -> None:
    with pytest.raises(ValueError):
        ChangePointSettings(min_size=0)
    with pytest.raises(ValueError):
        ChangePointSettings(cost="negbin")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ChangePointSettings(penalty="set", penalty_value=-1.0)
    with pytest.raises(ValueError):
        ChangePointSettings(rebase_ratio=1.0)
