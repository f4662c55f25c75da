"""The in-control generator reproduces its configured rates, dispersion, correlation and seasons.

Every tolerance is a multiple of a standard error estimated from the sample itself (wards are
independent; cells are independent given the latent expected rates), plus an absolute guard so that
a noisy indicator cannot pass vacuously.
"""

from __future__ import annotations

import numpy as np
import pytest

from signals import CATALOGUE, WARD_INDICATORS
from synthetic import rates
from synthetic.latent import winter_factor

COUNT_NB = [k for k in WARD_INDICATORS if k in rates.NB_SIZE]
PROPORTIONS = [k for k in WARD_INDICATORS if CATALOGUE[k].family == "proportion" and k != "bank_use"]


def configured_rate(trust, key: str) -> np.ndarray:
    """``(W,)`` configured expected numerator per unit of denominator, from the documented tables."""

    def table(t):
        return np.array([t[w] for w in trust.ward_types], dtype=float)

    if key == "prone_restraint":
        return table(rates.BASE_RATES["restraint"]) * table(rates.PRONE_SHARE) / 1000.0
    if key == "seclusion_hours":
        secl = table(rates.BASE_RATES["seclusion"]) * table(rates.SECLUSION_HOURS)
        lts = table(rates.BASE_RATES["long_term_segregation"]) * rates.SEGREGATION_WEEK_HOURS
        return (secl + lts) / 1000.0
    ind = CATALOGUE[key]
    scale = ind.scale if ind.family == "count" else 1.0
    return table(rates.BASE_RATES[key]) / scale


@pytest.mark.parametrize("key", WARD_INDICATORS)
def test_long_run_mean_matches_configured_rate(control, key):
    """Ratio estimator sum(y) / sum(rate * n) over wards; SE from the ward-level residuals."""
    a = control.arrays[key]
    written = a.written
    y_w = np.where(written, a.y, 0.0).sum(axis=1)
    e_w = (configured_rate(control, key)[:, None] * np.where(written, a.n, 0.0)).sum(axis=1)
    keep = e_w > 0
    y_w, e_w = y_w[keep], e_w[keep]
    ratio = y_w.sum() / e_w.sum()
    se = np.std(y_w - ratio * e_w, ddof=1) / (e_w.mean() * np.sqrt(keep.sum()))
    assert abs(ratio - 1.0) < 4 * se + 0.01, (key, ratio, se)
    assert abs(ratio - 1.0) < 0.2, (key, ratio)


def test_ward_type_ordering_of_restraint(control):
    """Restraint is far higher on LD/autism wards and PICUs than on adult acute wards."""
    a = control.arrays["restraint"]
    rate = {}
    for t in ("acute_adult", "picu", "ld_autism", "older_adult"):
        m = control.ward_types == t
        rate[t] = 1000 * a.y[m].sum() / a.n[m].sum()
        assert rate[t] == pytest.approx(rates.BASE_RATES["restraint"][t], rel=0.25)
    assert rate["ld_autism"] > 2 * rate["picu"] > 4 * rate["acute_adult"]


@pytest.mark.parametrize("key", COUNT_NB)
def test_counts_are_negative_binomial_given_latent(control, key):
    """Given the latent mean, the mean and Pearson dispersion match NB(k) (and reject Poisson)."""
    a = control.arrays[key]
    k = rates.NB_SIZE[key]
    m = a.expected * a.n
    y = a.y
    var = m + (0.0 if np.isinf(k) else m * m / k)
    z = (y.sum() - m.sum()) / np.sqrt(var.sum())
    assert abs(z) < 4.5, (key, z)
    # Pearson dispersion on cells with a mean of at least 0.3: below that, squared residuals are so
    # heavy-tailed that their sample standard error is unreliable (the mean test above still holds)
    big = m >= 0.3
    if big.sum() < 2000:
        assert key in ("long_term_segregation", "sexual_safety_incidents", "ftsu_concerns", "manager_changes")
        return
    y, m, var = y[big], m[big], var[big]
    r2 = (y - m) ** 2 / var
    se = r2.std() / np.sqrt(r2.size)
    assert abs(r2.mean() - 1.0) < 5 * se + 0.01, (key, r2.mean(), se)
    if not np.isinf(k) and m.mean() >= 1.0:  # extra variance m/k is large enough to see
        poisson = (y - m) ** 2 / m
        assert poisson.mean() > 1.0 + 5 * poisson.std() / np.sqrt(poisson.size), key


@pytest.mark.parametrize("key", PROPORTIONS)
def test_proportions_are_beta_binomial_given_latent(control, key):
    a = control.arrays[key]
    unit = 10.0 if key == "vacancy_rate" else 1.0  # vacancies are drawn on 0.1-WTE units
    keep = a.n > 0
    n, y, p = a.n[keep] * unit, a.y[keep] * unit, a.expected[keep]
    rho = rates.BB_RHO[key]
    var = n * p * (1 - p) * (1 + (n - 1) * rho)
    z = (y.sum() - (n * p).sum()) / np.sqrt(var.sum())
    assert abs(z) < 4.5, (key, z)
    r2 = (y - n * p) ** 2 / var
    se = r2.std() / np.sqrt(r2.size)
    assert abs(r2.mean() - 1.0) < 5 * se + 0.02, (key, r2.mean(), se)
    binomial = (y - n * p) ** 2 / (n * p * (1 - p))
    assert binomial.mean() > 1.0 + 5 * binomial.std() / np.sqrt(binomial.size), key


def test_prone_is_a_thinning_of_restraint(control):
    r, p = control.arrays["restraint"], control.arrays["prone_restraint"]
    share = p.expected / r.expected
    assert (p.y <= r.y).all()
    mean = (r.y * share).sum()
    var = (r.y * share * (1 - share)).sum()
    assert abs(p.y.sum() - mean) < 4.5 * np.sqrt(var)


def test_seclusion_hours_are_sums_of_episode_durations(control):
    s, lts, h = (control.arrays[k] for k in ("seclusion", "long_term_segregation", "seclusion_hours"))
    d_s = (h.expected - lts.expected * rates.SEGREGATION_WEEK_HOURS) / s.expected
    mean = s.y * d_s + lts.y * rates.SEGREGATION_WEEK_HOURS
    var = s.y * d_s**2 / 1.5 + lts.y * rates.SEGREGATION_WEEK_HOURS**2 / 2.0
    assert ((h.y == 0) == ((s.y + lts.y) == 0)).all()
    assert abs(h.y.sum() - mean.sum()) < 4.5 * np.sqrt(var.sum())


def test_structural_bounds(control):
    ag, bk = control.arrays["agency_use"], control.arrays["bank_use"]
    assert (ag.y + bk.y <= ag.n).all()
    for key in WARD_INDICATORS:
        a = control.arrays[key]
        assert (a.y >= 0).all(), key
        if CATALOGUE[key].family == "proportion":
            assert (a.y <= a.n).all(), key
        if not CATALOGUE[key].fractional:
            assert (a.y == np.round(a.y)).all(), key


def _within_ward_residuals(y: np.ndarray) -> np.ndarray:
    return (y - y.mean(axis=1, keepdims=True)) / (y.std(axis=1, keepdims=True) + 1e-12)


def test_unsettled_weeks_move_restrictive_practice_together(control):
    """Restraint and rapid tranquillisation co-move within a ward; restraint and visits do not."""
    m = np.isin(control.ward_types, ["ld_autism", "picu", "camhs"])
    r = _within_ward_residuals(control.arrays["restraint"].y[m])
    rt = _within_ward_residuals(control.arrays["rapid_tranquillisation"].y[m])
    fv = _within_ward_residuals(control.arrays["family_visits"].y[m])
    se = 1 / np.sqrt(r.size)
    together = (r * rt).mean()
    apart = (r * fv).mean()
    assert together > 6 * se and together > 0.05, together
    assert abs(apart) < 4 * se, apart


def test_winter_sickness(control):
    a = control.arrays["sickness_absence"]
    months = control.calendar.months
    mon = months.astype("datetime64[M]").astype(int) % 12
    jan, jul = mon == 0, mon == 6
    observed = (a.y[:, jan].sum() / a.n[:, jan].sum()) / (a.y[:, jul].sum() / a.n[:, jul].sum())
    mid = months + np.timedelta64(14, "D")
    f = winter_factor(mid, rates.WINTER_AMPLITUDE["sickness_absence"])
    expected = f[jan].mean() / f[jul].mean()
    assert expected > 1.5
    assert observed == pytest.approx(expected, rel=0.08)


def test_fewer_family_visits_at_christmas(control):
    a = control.arrays["family_visits"]
    weeks = control.calendar.weeks
    xmas = np.flatnonzero(
        (weeks.astype("datetime64[M]").astype(int) % 12 == 11)
        & ((weeks - weeks.astype("datetime64[M]").astype("datetime64[D]")).astype(int) >= 19)
    )
    before = np.concatenate([xmas - j for j in range(3, 7)])
    ratio = (a.y[:, xmas].sum() / a.n[:, xmas].sum()) / (a.y[:, before].sum() / a.n[:, before].sum())
    assert ratio == pytest.approx(rates.CHRISTMAS_DIP["family_visits"], abs=0.06)


@pytest.mark.parametrize("key", ["complaints", "ftsu_concerns", "manager_changes"])
def test_zero_heavy_indicators_are_honestly_zero_most_weeks(control, key):
    y = control.arrays[key].y
    assert (y == 0).mean() > 0.6, key
    assert y.sum() > 0, key  # but not never


def test_restraint_on_ld_wards_is_rarely_zero(control):
    y = control.arrays["restraint"].y[control.ward_types == "ld_autism"]
    assert (y == 0).mean() < 0.25


def test_occupied_bed_days_follow_beds(control):
    obd = control.arrays["restraint"].n
    beds = control.wards["beds"].to_numpy()[:, None]
    occupancy = obd / (7 * beds)
    assert (occupancy <= 1.0 + 1e-9).all()
    assert 0.85 < occupancy.mean() < 0.99
    assert occupancy.std(axis=1).mean() > 0.005  # weekly variation
