"""The compiled XmR display chart equals the array formulation bit for bit (fuzzed panels)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.charts import XmRSettings, xmr_chart
from engine.charts.xmr import xmr_chart_of
from tests.charts.vectorised_xmr import xmr_chart_vectorised

# the array formulation warns on the infinite and NaN values the fuzzed panels contain
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def random_settings(rng: np.random.Generator) -> XmRSettings:
    """Any valid combination of the XmR settings."""
    return XmRSettings(
        screen_outliers=bool(rng.integers(2)),
        multiplier=["ptd", "qic", float(rng.uniform(0.5, 4.0))][rng.integers(3)],
        screen_multiplier=float(rng.choice([3.267, 1.0, 0.5])),
        run_length=int(rng.integers(2, 10)),
        trend_length=int(rng.integers(3, 10)),
        two_in_three_beyond_3sigma=bool(rng.integers(2)),
        fix_after_n_points=[None, 12, int(rng.integers(12, 30))][rng.integers(3)],
        min_points=int(rng.choice([1, 5, 13, 40])),
        short_group_mode=["flag", "suppress"][rng.integers(2)],
    )


def random_panel(rng: np.random.Generator, s_count: int, t_count: int):
    """Values with ties, points on the mean, signed zeros, infinities, gaps, ramps and rebasing."""
    kind = rng.integers(4, size=(s_count, 1))
    y = np.where(
        kind == 0,
        rng.poisson(3.0, size=(s_count, t_count)).astype(float),
        np.where(
            kind == 1,
            rng.normal(0.0, 1.0, size=(s_count, t_count)),
            np.where(kind == 2, rng.integers(-1, 2, size=(s_count, t_count)) * 0.0, 5.0),
        ),
    )
    y += np.where(rng.random((s_count, 1)) < 0.2, np.arange(t_count) // rng.integers(1, 4), 0)
    y[rng.random(y.shape) < 0.002] = np.inf
    y[rng.random(y.shape) < 0.001] = -np.inf
    y[rng.random(y.shape) < rng.choice([0.0, 0.05, 0.4])] = np.nan
    starts = rng.integers(0, t_count, size=s_count)
    y[np.arange(t_count)[None, :] < np.where(rng.random(s_count) < 0.3, starts, 0)[:, None]] = np.nan
    y[rng.random(s_count) < 0.05] = np.nan  # empty series
    groups = np.cumsum(rng.random(y.shape) < rng.choice([0.0, 0.02, 0.2]), axis=1)
    direction = rng.choice([-1, 0, 1], size=s_count)
    target = np.where(rng.random(s_count) < 0.5, rng.normal(3.0, 3.0, size=s_count), np.nan)
    return y, groups, direction, target


#: Fields whose NaN sign the array formulation left to numpy's temporary elision (see below).
ELIDED = ("upper_2sigma",)


def assert_identical(a, b, any_nan_sign: tuple[str, ...] = ()) -> None:
    """Every field equal bit for bit (floats compared as their 64-bit patterns), same dtypes.

    ``any_nan_sign`` fields may differ in the sign bit of a NaN. The array formulation computed
    ``centre + half * (2 / 3)``; when both terms are NaN (only with infinite input values) the
    result is one operand's NaN, and numpy picks the temporary's when it elides it (arrays of at
    least 256 KiB, as every national panel) but ``centre``'s below that. The kernel always
    follows the large-array result, so only small panels need this allowance.
    """
    for name, va in vars(a).items():
        vb = getattr(b, name)
        assert va.dtype == vb.dtype and va.shape == vb.shape, name
        if va.dtype == np.float64:
            if name in any_nan_sign:
                va, vb = np.where(np.isnan(va), np.nan, va), np.where(np.isnan(vb), np.nan, vb)
            va, vb = va.view(np.uint64), vb.view(np.uint64)
        np.testing.assert_array_equal(va, vb, err_msg=name)


@pytest.mark.parametrize("seed", range(60))
def test_kernel_equals_vectorised_formulation(seed):
    rng = np.random.default_rng(seed)
    settings = XmRSettings() if seed < 4 else random_settings(rng)
    s_count, t_count = int(rng.integers(1, 80)), int(rng.integers(1, 90))
    y, groups, direction, target = random_panel(rng, s_count, t_count)
    if seed % 5 == 0:
        groups = groups.astype(np.int32)
    if seed % 7 == 0:
        groups = None
    new = xmr_chart(y, direction, groups=groups, target=target, settings=settings)
    old = xmr_chart_vectorised(y, direction, groups=groups, target=target, settings=settings)
    assert_identical(new, old, any_nan_sign=ELIDED if y.nbytes < 256 * 1024 else ())


@pytest.mark.parametrize("seed", range(3))
def test_parallel_kernel_and_masked_ratio_input(seed):
    """Above the serial threshold; ``y / n`` at observed cells as chart_panel charts it."""
    rng = np.random.default_rng(100 + seed)
    settings = random_settings(rng) if seed else XmRSettings()
    y, groups, direction, target = random_panel(rng, 1200, 260)
    n = rng.choice([0.0, 1.0, 7.0, 30.0], p=[0.02, 0.18, 0.4, 0.4], size=y.shape)
    observed = rng.random(y.shape) > 0.05
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(observed, y / n, np.nan)
    new = xmr_chart_of(
        y, direction, denominator=n, observed=observed, groups=groups, target=target, settings=settings
    )
    old = xmr_chart_vectorised(rate, direction, groups=groups, target=target, settings=settings)
    assert_identical(new, old)
    assert (new.rule != 0).sum() > 1000  # the data exercise the rules


def test_single_series_and_empty_shapes():
    for y in (np.array([1.0]), np.array([np.nan, 2.0]), np.array([-0.0, 0.0, -0.0]), np.zeros((0, 5))):
        assert_identical(xmr_chart(y), xmr_chart_vectorised(y))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="groups has shape"):
        xmr_chart(np.zeros((2, 5)), groups=np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="denominator has shape"):
        xmr_chart_of(np.zeros((2, 5)), denominator=np.ones((2, 4)))
