"""``wardwatch arl`` and ``wardwatch calibrate`` through the dispatcher."""

import json

import pytest

from engine.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_arl_json_shewhart(capsys):
    code, out, _ = run(capsys, "arl", "--chart", "shewhart", "--L", "3", "--json")
    d = json.loads(out)
    assert code == 0 and d["method"] == "closed_form" and d["se"] is None
    assert abs(d["arl"] - 370.4) < 0.05


def test_arl_cusum_and_shift(capsys):
    code, out, _ = run(capsys, "arl", "--chart", "cusum", "--k", "0.5", "--h", "5", "--shift", "1", "--json")
    d = json.loads(out)
    assert code == 0 and d["method"] == "integral" and abs(d["arl"] - 10.38) < 0.005
    code, out, _ = run(capsys, "arl", "--chart", "cusum", "--h", "4", "--method", "markov", "--json")
    assert json.loads(out)["method"] == "markov" and abs(json.loads(out)["arl"] - 167.68) < 0.02
    code, out, _ = run(
        capsys, "arl", "--chart", "cusum", "--h", "4", "--mu0", "10", "--sigma", "2", "--mu", "12", "--json"
    )
    assert abs(json.loads(out)["arl"] - 8.38) < 0.005  # (12 - 10)/2 = 1 sigma


def test_arl_text(capsys):
    code, out, _ = run(capsys, "arl", "--chart", "ewma", "--lambda", "0.5", "--L", "3.071")
    assert code == 0 and out.startswith("ARL 499.9") and "[integral]" in out


def test_arl_poisson_lucas_and_design(capsys):
    _, out, _ = run(
        capsys,
        "arl",
        "--chart",
        "cusum",
        "--family",
        "poisson",
        "--mu0",
        "0.25",
        "--k",
        "0.25",
        "--h",
        "10",
        "--sided",
        "one",
        "--json",
    )
    d = json.loads(out)
    assert d["method"] == "markov" and abs(d["arl"] - 438.1) < 0.05
    # k derived from the design rate ratio and rounded to 1/20; --shift is a rate ratio
    _, out, _ = run(
        capsys,
        "arl",
        "--chart",
        "cusum",
        "--family",
        "poisson",
        "--mu0",
        "2",
        "--rr",
        "2",
        "--h",
        "6.35",
        "--sided",
        "one",
        "--shift",
        "2",
        "--json",
    )
    d = json.loads(out)
    assert d["k"] == pytest.approx(2.9) and abs(d["arl"] - 6.49) < 0.005
    _code, out, _ = run(
        capsys,
        "arl",
        "--chart",
        "cusum",
        "--family",
        "poisson",
        "--mu0",
        "0.25",
        "--k",
        "0.25",
        "--h",
        "10",
        "--sided",
        "one",
        "--direction",
        "down",
        "--json",
    )
    assert abs(json.loads(out)["arl"] - 436.8) < 0.05


def test_arl_bernoulli(capsys):
    _code, out, _ = run(
        capsys,
        "arl",
        "--chart",
        "cusum",
        "--family",
        "binomial",
        "--p0",
        "0.05",
        "--k",
        "0.07",
        "--h",
        "3",
        "--sided",
        "one",
        "--p",
        "0.1",
        "--json",
    )
    assert abs(json.loads(out)["arl"] - 74.6) < 0.05


def test_arl_negbin_simulation(capsys):
    code, out, _ = run(
        capsys,
        "arl",
        "--chart",
        "cusum",
        "--family",
        "negbin",
        "--mu0",
        "10",
        "--alpha",
        "0.5",
        "--rr",
        "2",
        "--h",
        "5",
        "--sided",
        "one",
        "--shift",
        "2",
        "--replicates",
        "4000",
        "--json",
    )
    d = json.loads(out)
    assert code == 0 and d["method"] == "simulation" and d["se"] > 0
    assert abs(d["arl"] - 10.40) < 4 * d["se"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["arl", "--chart", "ewma", "--family", "poisson", "--lambda", "0.1", "--L", "3"], "normal only"),
        (["arl", "--chart", "cusum"], "--h"),
        (["arl", "--chart", "ewma", "--L", "3"], "--lambda"),
        (["arl", "--chart", "cusum", "--family", "poisson", "--h", "4"], "--mu0"),
        (["arl", "--chart", "cusum", "--family", "poisson", "--mu0", "1", "--h", "4"], "--rr"),
        (["arl", "--chart", "cusum", "--h", "4", "--shift", "1", "--mu", "2"], "at most one"),
        (
            ["arl", "--chart", "cusum", "--family", "poisson", "--mu0", "1", "--k", "0.3333333", "--h", "4"],
            "lattice",
        ),
        (["arl", "--chart", "cusum", "--h", "4", "--head-start", "2"], "head start"),
        (["calibrate", "--chart", "cusum"], "exactly one"),
    ],
)
def test_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_calibrate(capsys):
    code, out, _ = run(
        capsys, "calibrate", "--chart", "cusum", "--k", "0.5", "--target-arl", "370.4", "--json"
    )
    d = json.loads(out)
    assert code == 0 and d["parameter"] == "h" and abs(d["threshold"] - 4.7749) < 5e-5
    code, out, _ = run(capsys, "calibrate", "--chart", "ewma", "--lambda", "0.1", "--target-arl", "500")
    assert out.startswith("L = 2.8143")
    code, out, _ = run(
        capsys,
        "calibrate",
        "--chart",
        "cusum",
        "--family",
        "poisson",
        "--mu0",
        "2",
        "--rr",
        "2",
        "--sided",
        "one",
        "--target-arl",
        "500",
        "--json",
    )
    d = json.loads(out)
    assert d["threshold"] == pytest.approx(6.35) and abs(d["arl0"] - 521.1) < 0.05
    # budget: 1 false alarm per ward-year over 10 weekly charts -> ARL0 520
    code, out, _ = run(
        capsys,
        "calibrate",
        "--chart",
        "shewhart",
        "--alarms-per-ward-year",
        "1",
        "--charts-per-ward",
        "10",
        "--json",
    )
    d = json.loads(out)
    assert d["target_arl0"] == pytest.approx(520) and d["parameter"] == "L"
