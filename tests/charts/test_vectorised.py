"""The vectorised charts equal a plain per-series reference, and series order never matters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.charts import AttributeSettings, XmRSettings, attribute_chart, xmr_chart
from tests.charts.reference_ptd import chart_series

SETTINGS = [
    XmRSettings(),
    XmRSettings(screen_outliers=False, multiplier="qic", run_length=6, trend_length=6),
    XmRSettings(two_in_three_beyond_3sigma=True, run_length=8, trend_length=8, fix_after_n_points=12),
]


def random_panel(seed: int, s_count: int = 60, t_count: int = 70):
    """Integer-valued series (many ties and points exactly on the mean), shifts, trends, gaps."""
    rng = np.random.default_rng(seed)
    y = rng.poisson(4.0, size=(s_count, t_count)).astype(float)
    y[: s_count // 3, t_count // 2 :] += rng.integers(0, 6, size=(s_count // 3, 1))
    ramp = np.arange(t_count) // 3
    y[s_count // 3 : s_count // 2] += ramp
    y[rng.random(y.shape) < 0.1] = np.nan
    starts = rng.integers(0, t_count // 3, size=s_count)
    y[np.arange(t_count)[None, :] < starts[:, None]] = np.nan
    y[-1] = np.nan  # an empty series
    groups = np.cumsum(rng.random(y.shape) < 0.03, axis=1)
    direction = rng.choice(["increase", "decrease", "neutral"], size=s_count)
    return y, groups, direction


@pytest.mark.parametrize("cfg", SETTINGS)
@pytest.mark.parametrize("seed", [0, 1])
def test_vectorised_equals_per_series_reference(cfg, seed):
    y, groups, direction = random_panel(seed)
    r = xmr_chart(y, direction, groups=groups, settings=cfg)
    codes = {"increase": 1, "decrease": -1, "neutral": 0}
    for s in range(y.shape[0]):
        ref = chart_series(y[s], codes[direction[s]], groups[s], cfg)
        np.testing.assert_allclose(r.mean[s], ref["mean"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r.lpl[s], ref["lpl"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r.upl[s], ref["upl"], rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(r.rule[s], ref["rule"], err_msg=f"series {s}")
        np.testing.assert_array_equal(r.point_type[s], ref["point_type"], err_msg=f"series {s}")
    assert (r.rule != 0).sum() > 50  # the data exercise the rules


def _all_fields(result) -> dict[str, np.ndarray]:
    out = {}
    for name, value in vars(result).items():
        if hasattr(value, "__dataclass_fields__"):
            out.update({f"{name}.{k}": v for k, v in vars(value).items()})
        else:
            out[name] = value
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000), cfg=st.sampled_from(SETTINGS))
def test_shuffling_series_never_changes_a_series_result(seed, perm_seed, cfg):
    y, groups, direction = random_panel(seed, s_count=24, t_count=40)
    target = np.random.default_rng(seed).normal(4.0, 2.0, size=24)
    perm = np.random.default_rng(perm_seed).permutation(24)
    a = xmr_chart(y, direction, groups=groups, target=target, settings=cfg)
    b = xmr_chart(y[perm], direction[perm], groups=groups[perm], target=target[perm], settings=cfg)
    fa, fb = _all_fields(a), _all_fields(b)
    for key in fa:
        np.testing.assert_array_equal(fa[key][perm], fb[key], err_msg=key)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    perm_seed=st.integers(0, 10_000),
    kind=st.sampled_from(["c", "u", "p", "up", "pp"]),
)
def test_shuffling_series_never_changes_an_attribute_chart(seed, perm_seed, kind):
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 200, size=(12, 30)).astype(float)
    y = rng.binomial(n.astype(int), 0.1).astype(float)
    y[rng.random(y.shape) < 0.1] = np.nan
    perm = np.random.default_rng(perm_seed).permutation(12)
    cfg = AttributeSettings(kind=kind)
    a = attribute_chart(y, n, settings=cfg)
    b = attribute_chart(y[perm], n[perm], settings=cfg)
    fa, fb = _all_fields(a), _all_fields(b)
    for key in fa:
        np.testing.assert_array_equal(fa[key][perm], fb[key], err_msg=key)


def test_one_series_alone_equals_the_same_series_in_a_batch():
    y, groups, direction = random_panel(5, s_count=10, t_count=50)
    batch = xmr_chart(y, direction, groups=groups)
    for s in range(9):
        alone = xmr_chart(y[s], direction[s], groups=groups[s])
        np.testing.assert_array_equal(alone.point_type[0], batch.point_type[s])
        np.testing.assert_array_equal(alone.upl[0], batch.upl[s])
        assert alone.variation_icon[0] == batch.variation_icon[s]
