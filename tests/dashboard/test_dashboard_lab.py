"""Threshold lab and background jobs: the trust's own trade-off, the job runner, re-score swaps,
provenance printed by ``config check``, and known truth on the ward page."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dashboard.services import jobs as jobs_mod
from dashboard.services.jobs import JobRunner, job_key
from dashboard.services.lab_sweep import chosen_config, parse_thresholds, trust_data
from dashboard.services.rescore import recover, rescore_spec, stage_upload, staged_files, swap_in
from engine.config import load_config
from engine.evaluate.tradeoff import TradeoffSettings, simulate_tradeoff
from engine.io import load_dataset
from engine.scoring.settings import CombinationSettings

SMALL = TradeoffSettings(replicates=3, thresholds=(3.0, 4.5, 8.0), bootstrap_replicates=50)


# ------------------------------------------------------------------------------ job functions
def job_ok(spec, work, report):  # type: ignore[no-untyped-def]
    for i in range(spec["steps"]):
        report(i + 1, spec["steps"], f"step {i + 1}")
    (work / "out.txt").write_text(str(spec["value"] * 2))
    return {"value": spec["value"] * 2}


def job_fail(spec, work, report):  # type: ignore[no-untyped-def]
    (work / "half.txt").write_text("half")
    raise ValueError("bad input on line 3")


def job_slow(spec, work, report):  # type: ignore[no-untyped-def]
    report(0, 100, "sleeping")
    time.sleep(spec["seconds"])
    return {}


@pytest.fixture
def runner(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    here = Path(__file__).resolve().parent
    monkeypatch.syspath_prepend(str(here))  # the worker imports this module by name
    monkeypatch.setitem(jobs_mod.KINDS, "ok", "test_dashboard_lab:job_ok")
    monkeypatch.setitem(jobs_mod.KINDS, "fail", "test_dashboard_lab:job_fail")
    monkeypatch.setitem(jobs_mod.KINDS, "slow", "test_dashboard_lab:job_slow")
    return JobRunner(tmp_path / "jobs")


def _wait(r: JobRunner, key: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = r.status(key)
        if s is not None and not s.active:
            return s
        time.sleep(0.2)
    raise AssertionError(f"job {key} still running after {timeout} s")


def _wait_running(r: JobRunner, key: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = r.status(key)
        if s is not None and s.state == "running" and s.message == "sleeping":
            return s
        time.sleep(0.1)
    raise AssertionError("job never started")


def test_job_runs_in_a_worker_and_is_cached_by_input_hash(runner):
    s = runner.submit("ok", {"steps": 3, "value": 21})
    assert s.key == job_key("ok", {"steps": 3, "value": 21}) and s.pid and s.pid != os.getpid()
    done = _wait(runner, s.key)
    assert done.state == "done" and done.summary == {"value": 42} and (done.done, done.total) == (3, 3)
    assert (runner.result_dir(s.key) / "out.txt").read_text() == "42"
    again = runner.submit("ok", {"steps": 3, "value": 21})  # same inputs: served from disk, no worker
    assert again.state == "done" and again.pid == done.pid
    assert runner.latest("ok").key == s.key
    assert runner.submit("ok", {"steps": 3, "value": 1}).key != s.key


def test_failed_job_reports_the_error_and_publishes_nothing(runner):
    s = _wait(runner, runner.submit("fail", {}).key)
    assert s.state == "failed" and "bad input on line 3" in s.error
    assert not runner.result_dir(s.key).exists() and not (runner.folder(s.key) / "work").exists()


def test_killed_and_cancelled_jobs_read_as_stopped_and_can_run_again(runner):
    s = runner.submit("slow", {"seconds": 60})
    running = _wait_running(runner, s.key)
    os.kill(running.pid, signal.SIGKILL)
    dead = _wait(runner, s.key, timeout=10)
    assert dead.state == "failed" and "killed or crashed" in dead.error
    assert not runner.result_dir(s.key).exists()
    # a new submit of the same inputs starts again (a failed job is not a cache hit)
    again = runner.submit("slow", {"seconds": 60})
    assert again.active and again.pid != running.pid
    _wait_running(runner, s.key)
    cancelled = runner.cancel(s.key)
    assert cancelled.state == "cancelled"
    time.sleep(0.5)
    assert runner.status(s.key).state == "cancelled" and not jobs_mod._pid_alive(again.pid)


# ------------------------------------------------------------------------------ trade-off engine
@pytest.fixture(scope="module")
def trust(fixture_paths):  # type: ignore[no-untyped-def]
    run = json.loads((fixture_paths.results_dir / "run.json").read_text())
    return trust_data(fixture_paths.data_dir, run)


@pytest.fixture(scope="module")
def small_result(trust):  # type: ignore[no-untyped-def]
    load = load_dataset(trust.files["observations"], trust.files["wards"], trust.files.get("events"))
    return simulate_tradeoff(load.observations, load.wards, load.events, load.cadence, trust.config, SMALL)


def test_tradeoff_on_the_trusts_own_baselines(small_result, trust):
    t = small_result.table
    assert t["threshold"].to_list() == [3.0, 4.5, 8.0]
    assert small_result.wards == 20 and small_result.episodes == 3 * 2  # 10% of 20 wards per replicate
    assert small_result.single_domain_changes == small_result.episodes
    fa = t["false_concern_per_ward_year"].to_numpy()
    assert np.all(np.diff(fa) <= 1e-12) and fa[0] > 0  # a higher threshold never opens more
    assert np.all(t["false_concern_se"].to_numpy() >= 0)
    for h in (8, 16, 26):
        p = t[f"detected_{h}w"].to_numpy()
        # not monotone in the threshold: an alert opened by noise before an onset and still open is
        # not credited to the episode, and a higher threshold can avoid that (6 episodes here)
        assert np.all((p >= 0) & (p <= 1))
    assert (t["detected_8w"] <= t["detected_16w"]).all() and (t["detected_16w"] <= t["detected_26w"]).all()
    # the configuration in force is the served results' (defaults here)
    assert trust.config_source.startswith("the built-in defaults")


def test_tradeoff_is_deterministic_and_a_strong_step_is_found_fast(trust):
    load = load_dataset(trust.files["observations"], trust.files["wards"], trust.files.get("events"))
    args = (load.observations, load.wards, load.events, load.cadence, trust.config)
    strong = TradeoffSettings(replicates=2, size=4.0, ramp_weeks=0, breadth=4, thresholds=(3.0,))
    a = simulate_tradeoff(*args, strong)
    b = simulate_tradeoff(*args, strong)
    assert a.table.equals(b.table)
    assert a.table["detected_8w"][0] >= 0.75  # a fourfold step in every domain is seen within weeks
    with pytest.raises(ValueError, match="breadth"):
        TradeoffSettings(breadth=1)
    with pytest.raises(ValueError, match="rate ratio above 1"):
        TradeoffSettings(size=0.9)


def test_saved_configuration_records_provenance_and_config_check_prints_it(small_result, trust, tmp_path):
    from engine.cli import main as cli_main

    cfg = chosen_config(trust, small_result, 4.5, saved_by="Dr Research")  # below urgent (6.75)
    assert (
        cfg.combination.concern_threshold == 4.5
        and cfg.digest() == trust.config.replace("combination.concern_threshold", 4.5).digest()
    )  # provenance is not a setting
    path = tmp_path / "config.toml"
    path.write_text(cfg.to_toml())
    back = load_config(path)
    assert back.provenance == cfg.provenance and back.provenance.data_sha256 == trust.data_sha256
    row = small_result.row_at(4.5)
    assert back.provenance.simulated["false_concern_per_ward_year"] == pytest.approx(
        row["false_concern_per_ward_year"], abs=1e-6
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main(["config", "check", str(path)]) == 0
    text = out.getvalue()
    assert "1 setting(s) differ" in text and "combination.concern_threshold" in text
    assert f"data sha256: {trust.data_sha256}" in text and "by Dr Research" in text
    assert "target: false_concern_per_ward_year = 0.1" in text
    assert "simulated: detected_within_16_weeks" in text and "replicates=3" in text


def test_thresholds_parse():
    assert parse_thresholds("5, 3;4 4") == [3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="'x' is not a number"):
        parse_thresholds("3, x")
    with pytest.raises(ValueError, match="outside"):
        parse_thresholds("9", high=8.75)


# ------------------------------------------------------------------------------ re-score swaps
def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_uploads_with_the_same_name_are_kept_apart(tmp_path):
    a = stage_upload(tmp_path, {"observations": ("obs.csv", b"a"), "wards": ("C:\\x\\wards.csv", b"w")})
    b = stage_upload(tmp_path, {"observations": ("obs.csv", b"b"), "wards": ("wards.csv", b"w")})
    assert a != b and (a / "obs.csv").read_bytes() == b"a" and (b / "obs.csv").read_bytes() == b"b"
    assert staged_files(a) == {"observations": a / "obs.csv", "wards": a / "wards.csv"}


def test_swap_exchanges_results_and_registers_and_recovers(tmp_path):
    data = tmp_path / "data"
    (data / "results").mkdir(parents=True)
    (data / "results" / "ward_status.csv").write_text("old")
    (data / "wards.csv").write_text("old register")
    new = data / ".results.new-1"
    new.mkdir()
    (new / "ward_status.csv").write_text("new")
    reg = tmp_path / "up-wards.csv"
    reg.write_text("new register")
    previous = swap_in(new, data / "results", data, {"wards": reg}, "job1")
    assert (data / "results" / "ward_status.csv").read_text() == "new"
    assert (data / "wards.csv").read_text() == "new register"
    assert (previous / "ward_status.csv").read_text() == "old" and not new.exists()
    assert not (data / ".wardwatch" / "swap.json").exists()
    # a kill after the exchange but before the registers: the journal finishes the job
    (data / ".wardwatch" / "swap.json").write_text(
        json.dumps(
            {
                "swap_id": "job1",
                "results": str(data / "results"),
                "files": {str(reg): str(data / "events.csv")},
            }
        )
    )
    assert recover(data) == "finished an interrupted re-score swap"
    assert (data / "events.csv").read_text() == "new register"
    # a journal whose exchange never happened is rolled back
    stray = data / ".wards.csv.job2.new"
    stray.write_text("never published")
    (data / ".wardwatch" / "swap.json").write_text(
        json.dumps(
            {
                "swap_id": "job2",
                "results": str(data / "results"),
                "files": {str(stray): str(data / "wards.csv")},
            }
        )
    )
    assert recover(data) == "rolled back an interrupted re-score swap"
    assert (data / "wards.csv").read_text() == "new register" and not stray.exists()


def test_rescore_job_swaps_in_and_a_failed_one_leaves_results_untouched(fixture_paths, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(fixture_paths.data_dir, data)
    runner = JobRunner(data / ".wardwatch" / "jobs")
    before = _tree(data / "results")
    bad = stage_upload(data, {"observations": ("obs.csv", b"patient_name,nhs_number\nA,1\n"), "wards": ("wards.csv", (data / "wards.csv").read_bytes())})  # fmt: skip
    failed = _wait(runner, runner.submit("rescore", rescore_spec(data, data / "results", staged_files(bad), data / "config.toml")).key)  # fmt: skip
    assert failed.state == "failed" and str(bad) not in failed.error
    assert _tree(data / "results") == before
    obs = pl.read_csv(data / "observations.csv", infer_schema=False)
    last = obs["period"].max()
    trimmed = obs.filter(pl.col("period") != last).write_csv().encode()
    good = stage_upload(data, {"observations": ("observations.csv", trimmed), "wards": ("wards.csv", (data / "wards.csv").read_bytes())})  # fmt: skip
    done = _wait(runner, runner.submit("rescore", rescore_spec(data, data / "results", staged_files(good), data / "config.toml")).key)  # fmt: skip
    assert done.state == "done", done.error
    run = json.loads((data / "results" / "run.json").read_text())
    assert run["inputs"]["observations"]["path"] == str(good / "observations.csv")
    assert done.summary["as_of"] < last and Path(done.summary["previous"]).is_dir()
    assert _tree(Path(done.summary["previous"])) == before


# ------------------------------------------------------------------------------ pages
def test_lab_page_runs_the_tradeoff_in_the_background_and_saves_provenance(app_env, fixture_paths, tmp_path, monkeypatch):  # fmt: skip
    data = tmp_path / "data"
    shutil.copytree(fixture_paths.data_dir, data)
    monkeypatch.setenv("WARDWATCH_DATA", str(data))
    monkeypatch.setenv("WARDWATCH_RESULTS", str(data / "results"))
    at = app_env("demo-researcher")
    at.run()
    at.switch_page("app_pages/lab.py").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Starting from the configuration in force, the built-in defaults" in captions
    assert "In force for `restraint`" in captions and "threshold 7 nats" in captions
    assert at.number_input(key="lab_h_restraint").value == pytest.approx(round(7 / np.log(1.5), 2))
    assert any("Choose the episodes" in i.value for i in at.info)
    at.number_input(key="lab_t_reps").set_value(2)
    in_force = CombinationSettings().concern_threshold  # the default concern threshold
    at.text_input(key="lab_t_grid").input(f"3, {in_force:g}")
    next(b for b in at.button if b.label == "Run in the background").click()
    at.run()
    assert not at.exception
    deadline = time.monotonic() + 120
    while "lab_t_shown" not in at.session_state:
        assert time.monotonic() < deadline, "the trade-off did not finish"
        time.sleep(0.5)
        at.run()
        assert not at.exception
    job = at.session_state["lab_t_shown"]
    table = at.dataframe[-1].value
    assert list(table["Threshold (nats)"]) == [3.0, in_force]
    pick = at.selectbox(key=f"lab_pick_{job}")
    assert pick.options[1].endswith("(in force)") and pick.index == 1
    pick.select_index(0).run()
    at.button(key="lab_save_config").click().run()
    assert not at.exception
    saved = load_config(data / "config.toml")
    assert saved.combination.concern_threshold == 3.0
    assert saved.provenance.source.startswith("wardwatch threshold lab") and saved.provenance.saved_by
    assert saved.provenance.simulation["replicates"] == 2
    from engine.cli import main as cli_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main(["config", "check", str(data / "config.toml")]) == 0
    printed = out.getvalue()
    assert (
        "provenance: wardwatch threshold lab" in printed
        and "chosen: combination.concern_threshold = 3" in printed
    )
    assert (
        f"data sha256: {saved.provenance.data_sha256}" in printed
        and "simulated: false_concern_per_ward_year" in printed
    )
    assert any("Saved the full configuration" in s.value for s in at.success)
    # a reloaded page (new session) finds the finished run again, instantly
    at2 = app_env("demo-researcher")
    at2.run()
    at2.switch_page("app_pages/lab.py").run()
    assert at2.session_state["lab_t_shown"] == job
    assert list(at2.dataframe[-1].value["Threshold (nats)"]) == [3.0, in_force]


def test_ward_page_of_a_synthetic_trust_shows_its_injected_episode(app_env, fixture_paths):
    truth = pl.read_csv(fixture_paths.data_dir / "truth.csv", infer_schema=False)
    episode = truth.filter(pl.col("kind") == "closed_culture").row(0, named=True)
    at = app_env()
    at.run()
    text = " ".join(m.value for m in at.markdown) + " ".join(str(m.value) for m in at.metric)
    assert any(s.value == "Known truth (synthetic trust)" for s in at.subheader), text
    shown = next(d.value for d in at.dataframe if "Ward id" in d.value.columns)
    assert episode["ward_id"] in list(shown["Ward id"])
    at.switch_page("app_pages/ward.py")
    at.query_params["ward"] = episode["ward_id"]
    at.run()
    assert not at.exception
    boxes = [b.value for b in (*at.success, *at.warning)]
    assert any("Injected closed culture episode" in b for b in boxes), boxes
    assert any("Red band: the injected episode" in c.value for c in at.caption)


def test_swap_without_atomic_exchange_uses_two_renames_and_recovers(tmp_path, monkeypatch):
    import errno

    from dashboard.services import rescore

    def no_exchange(a, b):  # type: ignore[no-untyped-def]
        raise OSError(errno.EINVAL, "not supported")

    monkeypatch.setattr(rescore, "exchange", no_exchange)
    data = tmp_path / "data"
    (data / "results").mkdir(parents=True)
    (data / "results" / "ward_status.csv").write_text("old")
    new = data / ".results.new-2"
    new.mkdir()
    (new / "ward_status.csv").write_text("new")
    previous = swap_in(new, data / "results", data, {}, "job2")
    assert (data / "results" / "ward_status.csv").read_text() == "new"
    assert (previous / "ward_status.csv").read_text() == "old"
    # killed between the two renames: the results folder is missing; recover puts the new one in place
    (data / "results").rename(data / ".results.new-3")
    (data / ".wardwatch" / "swap.json").write_text(
        json.dumps(
            {
                "swap_id": "job2",
                "results": str(data / "results"),
                "staging": str(data / ".results.new-3"),
                "files": {},
            }
        )
    )
    assert recover(data) == "finished an interrupted re-score swap"
    assert (data / "results" / "ward_status.csv").read_text() == "new"


def _copy_env(fixture_paths, tmp_path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    shutil.copytree(fixture_paths.data_dir, data)
    monkeypatch.setenv("WARDWATCH_DATA", str(data))
    monkeypatch.setenv("WARDWATCH_RESULTS", str(data / "results"))
    return data


def _poll(at, done, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, "the background job did not finish"
        time.sleep(0.5)
        at.run()
        assert not at.exception


def test_lab_run_can_be_cancelled_and_the_page_stays_usable(app_env, fixture_paths, tmp_path, monkeypatch):
    _copy_env(fixture_paths, tmp_path, monkeypatch)
    at = app_env("demo-researcher")
    at.run()
    at.switch_page("app_pages/lab.py").run()
    at.number_input(key="lab_t_reps").set_value(500)
    next(b for b in at.button if b.label == "Run in the background").click()
    at.run()
    _poll(at, lambda a: any(b.label == "Cancel the run" for b in a.button))
    # the rest of the page answers while the worker runs: the ARL calculator recomputes
    at.number_input(key="lab_h_restraint").set_value(10.0).run()
    assert not at.exception and any("In-control ARL0" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Cancel the run").click()
    at.run()
    assert any("The run was cancelled" in w.value for w in at.warning)
    key = at.session_state["lab_t_job"]
    runner = JobRunner(tmp_path / "data" / ".wardwatch" / "lab")
    assert runner.status(key).state == "cancelled" and not runner.result_dir(key).exists()


def test_rescore_of_the_current_data_swaps_results_and_keeps_triage_notes(app_env, fixture_paths, tmp_path, monkeypatch):  # fmt: skip
    from engine.store import TriageStore

    data = _copy_env(fixture_paths, tmp_path, monkeypatch)
    before = json.loads((data / "results" / "run.json").read_text())
    at = app_env("demo-researcher")
    at.run()
    store = TriageStore(os.environ["WARDWATCH_STORE"])
    store.add_note(fixture_paths.episode_alert_id, "Researcher", "kept across the re-score")
    at.switch_page("app_pages/upload.py").run()
    assert not at.exception
    at.button(key="up_rescore_current").click().run()
    _poll(at, lambda a: any(s.value.startswith("Re-scored:") for s in a.success))
    after = json.loads((data / "results" / "run.json").read_text())
    assert (
        after["scored_at"] >= before["scored_at"]
        and after["inputs"]["observations"] == before["inputs"]["observations"]
    )
    at.switch_page("app_pages/overview.py").run()  # the dashboard syncs the new results into the store
    assert not at.exception
    notes = [n.text for n in store.get(fixture_paths.episode_alert_id).notes]
    assert "kept across the re-score" in notes and store.integrity_check() == ["ok"]


def test_lab_replicates_are_calibrate_alerts_replicates(trust):
    """Without injections the lab's replicate is exactly the in-control replicate of calibrate-alerts."""
    from engine.evaluate.tradeoff import _injected_frame, _template
    from engine.scoring.calibrate import estimate_latent_factors, replicate_frame
    from engine.scoring.run import evidence_frames

    load = load_dataset(trust.files["observations"], trust.files["wards"], trust.files.get("events"))
    cfg = trust.config
    parts, ev, _, _ = evidence_frames(load.observations, load.wards, load.events, load.cadence, cfg)
    factors = {c: estimate_latent_factors(sc) for c, sc in parts.items()}
    ours = _injected_frame(
        parts,
        np.random.default_rng(5),
        factors,
        [],
        ev.periods,
        ev.ward_id,
        SMALL,
        _template(parts, cfg.build_catalogue()),
    )
    theirs = replicate_frame(parts, np.random.default_rng(5), cfg.build_catalogue(), factors)
    assert ours.equals(theirs)


def test_latest_job_can_be_restricted_to_the_data_now_loaded(runner):
    a = _wait(runner, runner.submit("ok", {"steps": 1, "value": 1, "digests": {"obs": "old"}}).key)
    time.sleep(1.1)  # submission times are to the second
    b = _wait(runner, runner.submit("ok", {"steps": 1, "value": 2, "digests": {"obs": "new"}}).key)
    assert runner.latest("ok").key == b.key
    assert runner.latest("ok", where=lambda spec: spec["digests"] == {"obs": "old"}).key == a.key
    assert runner.latest("ok", where=lambda spec: False) is None


def test_lab_in_control_model_is_calibrate_alerts_model_without_cold_start(trust, monkeypatch):
    """The lab draws replicates from each ward's own frozen level, as calibrate-alerts does.

    With the cold start on, the fitted in-control rates of a ward's warm-up weeks were its peer group's:
    every replicate then carried a level shift at the end of the warm-up (and inflated latent noise),
    which doubled the lab's false concern alerts on the demo trust against ``wardwatch evaluate``.
    The replicates themselves are still scored as configured (cold start on).
    """
    import engine.evaluate.tradeoff as tradeoff
    from engine.scoring.calibrate import in_control_config

    seen = []
    real = tradeoff.evidence_frames

    def spy(obs, wards, events, cadence, cfg):  # type: ignore[no-untyped-def]
        seen.append(cfg)
        return real(obs, wards, events, cadence, cfg)

    monkeypatch.setattr(tradeoff, "evidence_frames", spy)
    load = load_dataset(trust.files["observations"], trust.files["wards"], trust.files.get("events"))
    cfg = trust.config
    assert cfg.baselines.cold_start  # the scoring default the replicates must keep
    one = TradeoffSettings(replicates=1, thresholds=(4.0,), bootstrap_replicates=0)
    tradeoff.simulate_tradeoff(load.observations, load.wards, load.events, load.cadence, cfg, one)
    model, scored = seen[0], seen[1]
    assert model == in_control_config(cfg)
    for b in (model.baselines, model.baselines_monthly):
        assert b.mode == "frozen" and not b.cold_start
    assert scored == cfg


@pytest.mark.parametrize("swept", ["concern", "watch"])
def test_lab_levels_at_the_configured_thresholds_are_the_scoring_levels(trust, swept):
    """At the configured thresholds the lab's levels are exactly the scored ward levels.

    The lab once passed every single-indicator alarm to the level rule, raising watch on it, while
    scoring keeps indicator alerts off the ward level by default (``watch_on_indicator_alerts``):
    the lab's false watch alerts were 2.6 times ``wardwatch evaluate``'s on the demo trust.
    """
    from engine.evaluate.tradeoff import _levels
    from engine.scoring.run import evidence_frames

    load = load_dataset(trust.files["observations"], trust.files["wards"], trust.files.get("events"))
    cfg = trust.config
    comb = cfg.combination
    assert not comb.watch_on_indicator_alerts
    _, ev, _, _ = evidence_frames(load.observations, load.wards, load.events, load.cadence, cfg)
    assert ev.single_alarm.any()  # the case the rule must ignore is present
    h = comb.concern_threshold if swept == "concern" else comb.watch_threshold
    s = TradeoffSettings(replicates=1, thresholds=(h,), swept=swept, bootstrap_replicates=0)
    np.testing.assert_array_equal(_levels(ev, comb, s)[0], ev.level)
