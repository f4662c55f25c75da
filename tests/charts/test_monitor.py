"""Monitoring mode: no look-ahead, and equal to the last point of a chart drawn at each period."""

from __future__ import annotations

import numpy as np
import pytest

from engine.charts import MonitorSettings, XmRSettings, xmr_chart, xmr_monitor
from engine.charts import codes as C


def data(seed: int = 1, s_count: int = 80, t_count: int = 70):
    rng = np.random.default_rng(seed)
    y = np.round(rng.normal(size=(s_count, t_count)), 1)  # rounded: ties and on-mean points
    y[rng.random(y.shape) < 0.1] = np.nan
    y[:, 40:] += np.linspace(0, 3, t_count - 40)
    g = np.where(np.arange(t_count) >= 55, 1, 0)[None, :].repeat(s_count, 0)
    g[::2] = 0
    return y, g


@pytest.mark.parametrize("baseline", ["fixed", "expanding"])
def test_monitor_equals_last_point_of_chart_drawn_at_t(baseline):
    y, g = data()
    mon = MonitorSettings(baseline=baseline, warm_up=20, min_points=12)
    m = xmr_monitor(y, "increase", groups=g, monitor=mon)
    cfg = XmRSettings(fix_after_n_points=20) if baseline == "fixed" else XmRSettings()
    checked = 0
    for t in range(y.shape[1]):
        r = xmr_chart(y[:, : t + 1], "increase", groups=g[:, : t + 1], settings=cfg)
        ok = m.evaluated[:, t]
        np.testing.assert_allclose(m.upl[ok, t], r.upl[ok, t], rtol=1e-12)
        np.testing.assert_allclose(m.mean[ok, t], r.mean[ok, t], rtol=1e-12)
        np.testing.assert_array_equal(m.point_type[ok, t], r.point_type[ok, t])
        np.testing.assert_array_equal(m.rule[ok, t], r.rule[ok, t])
        checked += ok.sum()
    assert checked > 3000
    assert (m.point_type == C.IMPROVEMENT).sum() > 100


@pytest.mark.parametrize(
    "mon", [MonitorSettings(), MonitorSettings(baseline="expanding", include_current=False)]
)
def test_monitor_has_no_look_ahead(mon):
    y, g = data(2, s_count=30)
    full = xmr_monitor(y, "decrease", groups=g, monitor=mon)
    for t in (15, 33, 50, 69):
        cut = xmr_monitor(y[:, : t + 1], "decrease", groups=g[:, : t + 1], monitor=mon)
        for name in ("mean", "upl", "lpl", "point_type", "rule", "n_baseline", "evaluated"):
            np.testing.assert_array_equal(getattr(cut, name), getattr(full, name)[:, : t + 1], err_msg=name)


def test_monitor_warm_up_and_min_points():
    y = np.tile([10.0, 11.0], 20)
    m = xmr_monitor(y, monitor=MonitorSettings(warm_up=20, min_points=12))
    assert m.n_baseline[0].tolist() == list(range(1, 21)) + [20] * 20
    assert not m.evaluated[0, :11].any() and m.evaluated[0, 11:].all()
    assert (m.point_type[0, :11] == C.MISSING_POINT).all()
    # the fixed baseline stops moving after the warm-up
    assert np.unique(m.upl[0, 19:]).size == 1


def test_monitor_exclude_current_point():
    y = np.r_[np.tile([10.0, 11.0], 10), 40.0]
    incl = xmr_monitor(y, monitor=MonitorSettings(baseline="expanding"))
    excl = xmr_monitor(y, monitor=MonitorSettings(baseline="expanding", include_current=False))
    assert excl.upl[0, -1] == pytest.approx(10.5 + 2.66)  # the 40 is not in its own limits
    assert incl.upl[0, -1] > excl.upl[0, -1]
    assert excl.rule[0, -1] == C.OUTSIDE_LIMITS
