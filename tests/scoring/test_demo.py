"""`wardwatch demo` generates, scores and (without --no-serve) serves; a rerun reuses the scored trust."""

from engine.cli import main


def test_demo_generates_scores_and_reuses(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--wards", "12", "--weeks", "80", "--no-serve"]
    assert main(args) == 0
    for name in (
        "observations.csv",
        "wards.csv",
        "events.csv",
        "truth.csv",
        "results/ward_status.csv",
        "results/alerts.csv",
        "results/series.parquet",
        ".wardwatch/triage.db",
    ):
        assert (out / name).exists(), name
    capsys.readouterr()
    assert main(args) == 0
    assert "using the scored trust already" in capsys.readouterr().out
