"""Options generated from the settings dataclasses, and ``--set section.key=value``."""

from __future__ import annotations

import dataclasses

import pytest

from engine.arl.results import ArlSettings
from engine.arl.spec import ChartSpec
from engine.changepoint import ChangePointSettings
from engine.charts import XmRSettings
from engine.cli import build_parser, main
from engine.cli.settings_args import apply_overrides, parse_override
from engine.config import Config
from engine.settings import SettingsError


def _parse(*argv: str):
    return build_parser(only=argv[0]).parse_args(list(argv))


def test_changepoint_options_default_to_the_settings_dataclass() -> None:
    from engine.cli.changepoint_cmd import SETTINGS_OPTIONS

    args = _parse("changepoints", "obs.csv")
    defaults = ChangePointSettings()
    for name in SETTINGS_OPTIONS:
        assert getattr(args, name) == getattr(defaults, name), name


def test_spc_rule_options_default_to_xmr_settings() -> None:
    from engine.cli.spc_cmd import _settings

    args = _parse("spc", "in.csv", "--date", "week")
    assert _settings(args) == XmRSettings()


def test_arl_options_default_to_chart_spec_and_arl_settings() -> None:
    from engine.cli.arl_cmd import settings_from_args, spec_from_args

    args = _parse("arl", "--chart", "cusum")
    assert spec_from_args(args) == ChartSpec(chart="cusum")
    assert settings_from_args(args) == ArlSettings()
    calib = _parse("calibrate", "--chart", "ewma", "--lambda", "0.2", "--target-arl", "370")
    assert spec_from_args(calib) == ChartSpec(chart="ewma", lam=0.2)


def test_help_shows_the_dataclass_doc_default_and_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["changepoints", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    doc = dataclasses.fields(ChangePointSettings)[
        [f.name for f in dataclasses.fields(ChangePointSettings)].index("min_size")
    ].metadata["doc"]
    assert f"--min-size MIN_SIZE {doc} (default 6; >= 1 and <= 10000)" in text
    assert "rate ratio that makes a change a rebase point (default 1.5; > 1 and <= 1000)" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["changepoints", "missing.csv", "--rebase-ratio", "5000"],
            "--rebase-ratio = 5000.0 is out of range",
        ),
        (["spc", "missing.csv", "--date", "d", "--value", "v", "--run-length", "200"], "--run-length = 200"),
        (["spc", "missing.csv", "--date", "d", "--value", "v", "--fix-after", "5"], "at least 12"),
    ],
)
def test_an_option_outside_its_declared_range_is_refused_before_reading(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "missing.csv" not in err  # refused before the file is read


def test_parse_override_reads_toml_values_and_keeps_text_and_dates_as_text() -> None:
    assert parse_override("combination.concern_threshold=4.5") == ("combination.concern_threshold", 4.5)
    assert parse_override(" baselines.warmup_periods = 30 ") == ("baselines.warmup_periods", 30)
    assert parse_override("charts.screen_outliers=false") == ("charts.screen_outliers", False)
    assert parse_override("store.synchronous=FULL") == ("store.synchronous", "FULL")
    assert parse_override('store.synchronous="FULL"') == ("store.synchronous", "FULL")
    assert parse_override("input.earliest_period=2020-01-01") == ("input.earliest_period", "2020-01-01")
    for bad in ("combination", "combination=4", ".x=1", "a..b=1", "=4"):
        with pytest.raises(SettingsError, match=r"expected section\.key=value"):
            parse_override(bad)


def test_overrides_go_through_the_configuration_checks() -> None:
    config = apply_overrides(
        Config(), ["combination.concern_threshold=4.5", "indicators.restraint.threshold=6"]
    )
    assert config.combination.concern_threshold == 4.5
    assert config.indicator("restraint").threshold == 6.0
    assert config.digest() != Config().digest()
    assert apply_overrides(Config(), []) == Config()
    with pytest.raises(SettingsError, match=r"did you mean combination\.concern_threshold"):
        apply_overrides(Config(), ["combination.concern_threshld=4"])
    with pytest.raises(SettingsError, match="out of range"):
        apply_overrides(Config(), ["combination.concern_threshold=0"])
    with pytest.raises(SettingsError, match="expected a number"):
        apply_overrides(Config(), ["combination.concern_threshold=high"])
    with pytest.raises(SettingsError, match="no baseline could ever be ready"):
        apply_overrides(Config(), ["baselines.min_observed=500"])
    with pytest.raises(SettingsError, match="unknown indicator"):
        apply_overrides(Config(), ["indicators.no_such.threshold=6"])
    with pytest.raises(SettingsError, match="not a table"):
        apply_overrides(Config(), ["combination.concern_threshold.x=6"])


def test_set_applies_on_top_of_the_config_file(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[combination]\nconcern_threshold = 5.0\ndomain_threshold = 7.0\n", encoding="utf-8")
    argv = ["config", "show", "--config", str(path), "--set", "combination.concern_threshold=4.25"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "concern_threshold = 4.25" in out
    assert "domain_threshold = 7.0" in out
    assert main(["config", "show", "--set", "combination.concern_threshold=-1"]) == 2
    assert "--set: combination.concern_threshold = -1.0 is out of range" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "--observations", "o.csv", "--wards", "w.csv", "--out", "r"],
        ["evaluate", "--benchmark", "b"],
        ["sweep", "--grid", "combination.concern_threshold=3,4", "--out", "s"],
        ["calibrate-alerts", "--observations", "o.csv", "--wards", "w.csv"],
        ["validate", "o.csv", "--wards", "w.csv"],
        ["config", "show"],
    ],
)
def test_every_command_that_takes_a_config_takes_repeatable_set(argv: list[str]) -> None:
    args = _parse(*argv, "--set", "a.b=1", "--set", "c.d=2")
    assert args.set == ["a.b=1", "c.d=2"]
    assert _parse(*argv).set == []


def test_evaluation_options_default_to_evaluation_settings_and_sweep_keeps_its_own_bootstrap() -> None:
    from engine.cli.evaluate_cmd import _settings
    from engine.evaluate.settings import EvaluationSettings

    assert _settings(_parse("evaluate", "--truth", "t.csv", "--results", "r")) == EvaluationSettings()
    args = _parse("evaluate", "--no-oracle", "--horizon", "8", "--ci-level", "0.9")
    assert _settings(args) == EvaluationSettings(horizon_weeks=8, ci_level=0.9, oracle=False)
    sweep = _parse("sweep", "--grid", "combination.concern_threshold=3,4", "--out", "s")
    assert (sweep.horizon, sweep.bootstrap) == (EvaluationSettings().horizon_weeks, 500)
