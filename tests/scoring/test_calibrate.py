"""Calibration of the whole trust: simulated false-alarm rates against thresholds."""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.cli import main
from engine.config import Config, load_config
from engine.panel import OBSERVED
from engine.scoring.calibrate import _fill_back, calibrate_alerts, draw_in_control


def test_fill_back_uses_first_and_previous_values():
    a = np.array([[np.nan, np.nan, 2.0, np.nan, 3.0], [np.nan] * 5])
    out = _fill_back(a)
    assert out[0].tolist() == [2.0, 2.0, 2.0, 2.0, 3.0]
    assert np.isnan(out[1]).all()


def test_in_control_draws_match_the_baseline_mean(scored):
    sc = scored.parts["weekly"]
    rng = np.random.default_rng(3)
    draws = np.stack([draw_in_control(sc, rng) for _ in range(40)])
    observed = sc.panel.status == OBSERVED
    rate = _fill_back(sc.baseline_rate)
    mu = rate * sc.panel.n
    ok = observed & np.isfinite(mu) & (sc.family == "count")[:, None]
    # pooled over every observed count cell: the simulated total matches the expected total
    ratio = np.nansum(draws[:, ok]) / (40 * mu[ok].sum())
    assert abs(ratio - 1) < 0.02
    assert np.isnan(draws[:, ~observed]).all()  # missing stays missing


def test_calibration_rates_fall_with_the_threshold_and_meet_the_target(loaded):
    rep = calibrate_alerts(
        loaded.observations, loaded.wards, loaded.events, loaded.cadence, replicates=2, seed=5
    )
    assert rep.ward_years > 50
    # broadly fewer false alerts as more evidence is required (hysteresis allows small wiggles)
    assert rep.concern_rate[0] > rep.concern_rate[len(rep.grid) // 2] >= rep.concern_rate[-1]
    assert rep.indicator_rate[0] > rep.indicator_rate[-1]
    i = int(np.searchsorted(rep.grid, rep.concern_threshold))
    assert (rep.concern_rate[i:] <= Config().combination.target_false_concern_per_ward_year).all()
    rate, se = rep.rate_at(rep.concern_threshold)
    assert se >= 0
    assert rate <= Config().combination.target_false_concern_per_ward_year
    assert rep.urgent_threshold >= rep.concern_threshold
    # the urgent rate counts concern episodes that escalate: never more than the concern episodes
    assert rep.urgent_rate.max() <= rate + 1e-12
    # decoy-aware: simulated single-domain changes escalate at most 10% at the chosen threshold
    comb = Config().combination
    assert rep.decoys > 0
    assert (rep.decoy_rate[i:] <= comb.target_decoy_escalation).all()
    assert rep.decoy_rate[0] >= rep.decoy_rate[-1]
    # watch: two or more domains at the watch threshold, within both in-control targets
    w = int(np.searchsorted(rep.grid, rep.watch_threshold))
    assert rep.watch_threshold <= rep.concern_threshold
    if rep.watch_threshold < rep.concern_threshold:
        assert (rep.watch_rate[w:] <= comb.target_false_watch_per_ward_year).all()
        assert (rep.watch_share[w:] <= comb.target_watch_share).all()
    cfg = rep.apply(Config())
    assert cfg.combination.concern_threshold == rep.concern_threshold
    assert cfg.combination.watch_threshold == min(rep.watch_threshold, rep.concern_threshold)
    assert isinstance(rep.table(), pl.DataFrame)


def test_calibrate_alerts_cli_writes_a_config(trust_files, tmp_path, capsys):
    _, paths = trust_files
    out = tmp_path / "calibrated.toml"
    code = main(
        [
            "calibrate-alerts",
            "--observations",
            str(paths["observations"]),
            "--wards",
            str(paths["wards"]),
            "--events",
            str(paths["events"]),
            "--replicates",
            "1",
            "--seed",
            "2",
            "--write",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "false concern alerts per ward-year" in captured.out
    # the progress bar is tqdm's (issue 23), on stderr, never mixed into the report on stdout
    assert "calibrate-alerts" in captured.err and "1/1" in captured.err
    assert "it/s" not in captured.out and "\r" not in captured.out
    assert load_config(out).combination.concern_threshold > 0


def test_latent_noise_is_recovered_from_cross_and_own_covariances():
    from types import SimpleNamespace

    from engine.scoring.calibrate import _ar1, estimate_latent_factors

    rng = np.random.default_rng(12)
    wards, per_ward, t_count, mu = 300, 4, 160, 40.0
    b, rho, own_sd, own_rho = 0.2, 0.7, 0.15, 0.9
    shared = _ar1(rng, wards, t_count, rho)
    own = _ar1(rng, wards * per_ward, t_count, own_rho)
    ward_of = np.repeat(np.arange(wards), per_ward)
    log_m = b * shared[ward_of] + own_sd * own - 0.5 * (b**2 + own_sd**2)
    y = rng.poisson(mu * np.exp(log_m)).astype(float)
    panel = SimpleNamespace(
        y=y,
        n=np.ones_like(y),
        status=np.zeros(y.shape, dtype=np.int8),
        ward_id=np.array([f"W{w:03d}" for w in ward_of]),
        shape=y.shape,
    )
    sc = SimpleNamespace(panel=panel, baseline_rate=np.full(y.shape, mu), domain=np.full(len(y), "staffing"))
    f = estimate_latent_factors(sc)["staffing"]  # type: ignore[arg-type]
    assert abs(f.b - b) < 0.04
    assert abs(f.rho - rho) < 0.1
    assert abs(f.own_sd - own_sd) < 0.04
    assert abs(f.own_rho - own_rho) < 0.08
