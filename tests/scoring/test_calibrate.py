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


def _latent_panel(log_m: np.ndarray, domain: np.ndarray, ward_of: np.ndarray, mu: float, seed: int):  # type: ignore[no-untyped-def]
    """A SeriesScores stand-in: Poisson counts around ``mu * exp(log_m)``, weekly periods."""
    from types import SimpleNamespace

    y = np.random.default_rng(seed).poisson(mu * np.exp(log_m)).astype(float)
    periods = np.datetime64("2022-01-03") + 7 * np.arange(y.shape[1])
    panel = SimpleNamespace(
        y=y,
        n=np.ones_like(y),
        status=np.zeros(y.shape, dtype=np.int8),
        ward_id=np.array([f"W{w:03d}" for w in ward_of]),
        shape=y.shape,
        periods=periods,
    )
    return SimpleNamespace(
        panel=panel,
        baseline_rate=np.full(y.shape, mu),
        dispersion=np.zeros(y.shape),
        family=np.full(len(y), "count"),
        domain=domain,
    )


def test_latent_noise_is_recovered_from_cross_and_own_covariances():
    from engine.scoring.calibrate import _ar1, estimate_latent_factors

    rng = np.random.default_rng(12)
    wards, per_ward, t_count, mu = 300, 4, 160, 40.0
    b, rho, own_sd, own_rho = 0.2, 0.7, 0.15, 0.9
    shared = _ar1(rng, wards, t_count, rho)
    own = _ar1(rng, wards * per_ward, t_count, own_rho)
    ward_of = np.repeat(np.arange(wards), per_ward)
    log_m = b * shared[ward_of] + own_sd * own - 0.5 * (b**2 + own_sd**2)
    sc = _latent_panel(log_m, np.full(len(ward_of), "staffing"), ward_of, mu, 3)
    f = estimate_latent_factors(sc)["staffing"]  # type: ignore[arg-type]
    assert abs(f.b - b) < 0.04
    assert abs(f.rho - rho) < 0.1
    assert abs(f.own_sd - own_sd) < 0.04
    assert abs(f.own_rho - own_rho) < 0.08


def test_ward_wide_factor_linked_counts_and_drift_are_recovered():
    """A factor shared by two domains of a ward (an unsettled week raises restraint and injuries),
    a count that repeats another's events (prone restraints are restraints) and a slow random walk
    of each series' rate: each is estimated where it is, so the replicates carry all three."""
    from engine.scoring.calibrate import _ar1, estimate_latent_factors

    rng = np.random.default_rng(5)
    wards, per_domain, t_count, mu = 300, 3, 160, 30.0
    a = {"restrictive_practice": 0.3, "harm_and_reporting": 0.2}
    rho_v, drift = 0.7, 0.01
    x = _ar1(rng, wards, t_count, rho_v)
    ward_of = np.repeat(np.arange(wards), 2 * per_domain)
    domain = np.tile(np.repeat(list(a), per_domain), wards)
    load = np.array([a[d] for d in domain])
    walk = np.cumsum(drift * rng.standard_normal((len(ward_of), t_count)), axis=1)
    log_m = load[:, None] * x[ward_of] - 0.5 * load[:, None] ** 2 + walk
    sc = _latent_panel(log_m, domain, ward_of, mu, 6)
    # the first restrictive-practice series of each ward repeats the second one's events
    first = np.flatnonzero(np.arange(len(ward_of)) % (2 * per_domain) == 0)
    sc.panel.y[first] = sc.panel.y[first + 1]
    f = estimate_latent_factors(sc)  # type: ignore[arg-type]
    rp, harm = f["restrictive_practice"], f["harm_and_reporting"]
    # what the replicates need is identified: the covariance across the two domains, each domain's
    # own shared variance (with two domains the split between the ward-wide and the domain factor is
    # not) and the persistence
    assert abs(rp.ward_b * harm.ward_b - 0.3 * 0.2) < 0.015
    assert abs(rp.ward_b**2 + rp.b**2 - 0.3**2) < 0.02 and abs(harm.ward_b**2 + harm.b**2 - 0.2**2) < 0.02
    assert abs(rp.ward_rho - rho_v) < 0.1 and (rp.b == 0 or abs(rp.rho - rho_v) < 0.15)
    # the linked pair (2 of the 6 ordered pairs, Var(y / mu) = 1 / 30 each) is same-week noise: ~0.1
    assert rp.same_b > 0.07 > harm.same_b
    assert abs(rp.drift_sd - drift) < 0.005 and abs(harm.drift_sd - drift) < 0.005


def test_score_calibrate_scores_with_the_trusts_own_thresholds_and_records_them(
    trust_files, tmp_path, capsys
):
    """``score --calibrate``: thresholds from this trust's in-control simulation, used for the run and
    recorded with the predicted rates in run.json; with --as-of only data up to the cut-off are used."""
    import datetime as dt
    import json

    _, paths = trust_files
    base = [
        "score",
        "--observations",
        str(paths["observations"]),
        "--wards",
        str(paths["wards"]),
        "--events",
        str(paths["events"]),
    ]
    out = tmp_path / "calibrated"
    assert main([*base, "--out", str(out), "--calibrate", "--calibrate-replicates", "1"]) == 0
    captured = capsys.readouterr()
    assert "calibrated on this trust" in captured.out and "calibrate" in captured.err
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    cal, comb = run["calibration"], run["config"]["combination"]
    for key in ("concern_threshold", "urgent_threshold", "watch_threshold", "cusum_threshold"):
        assert cal["thresholds"][key] == comb[key]  # the run was scored with what was recorded
        assert cal["replaced"][key] == getattr(Config().combination, key)
    assert cal["replicates"] == 1 and cal["simulated_ward_years"] > 0
    assert 0 <= cal["predicted"]["false_concern_per_ward_year"] <= 1
    assert 0 <= cal["predicted"]["watch_share"] <= 1
    assert dt.date.fromisoformat(cal["data_up_to"]) > dt.date.fromisoformat("2023-06-05")
    cut = "2023-06-05"
    out_cut = tmp_path / "cut"
    assert (
        main([*base, "--out", str(out_cut), "--calibrate", "--calibrate-replicates", "1", "--as-of", cut])
        == 0
    )
    cal_cut = json.loads((out_cut / "run.json").read_text(encoding="utf-8"))["calibration"]
    assert cal_cut["data_up_to"] <= cut
    capsys.readouterr()
    assert main([*base, "--out", str(tmp_path / "r"), "--retrospective", "--calibrate"]) == 2
