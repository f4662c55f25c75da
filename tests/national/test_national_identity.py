"""Scoring at scale gives bit-identical results to scoring ward by ward (or provider by provider).

Everything is computed on ``(S, T)`` arrays for all series at once, so the one way scale could change a
result is leakage between rows (a reduction over the wrong axis, a kernel writing into a neighbour, a
segment id running across series, a global default). Two kinds of result are checked, each for exact
(bitwise) equality, not closeness:

* **Per-series results that do not depend on peers** (display and monitoring control charts, change
  points, CUSUM / EWMA / silence / data-silence given the baseline rates): computed for the whole
  panel and for each ward's rows alone.
* **Peer-dependent results** (baseline shrinkage pools a ward type x indicator across wards; the
  provider factor pools a provider's wards): they are *meant* to change with the set of wards, so the
  meaningful check is that they depend on nothing but their own pool. The ward register is arranged
  so that every peer pool lies inside one provider (each provider runs one ward type); then the full
  pipeline (``score``: baselines, provider factor, detectors, ward evidence, alerts, ward status) for
  one provider's files alone must reproduce that provider's rows of the national run exactly. This is
  the property a distributed run partitioned by provider relies on (see docs/national-scale.md). A
  control test shows the pools really matter: with mixed ward types the provider-alone baselines
  differ, as they should.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from engine.changepoint import detect_panel
from engine.charts import chart_panel, xmr_monitor
from engine.config import Config
from engine.detectors import BinomialCusum, DataSilence, Ewma, NegBinCusum, PoissonCusum, Silence
from engine.io import load_dataset
from engine.scoring.run import ScoreResult, score
from synthetic import TrustSpec, generate, write_trust

CFG = Config()
CATALOGUE = CFG.build_catalogue()
TYPES = ("acute_adult", "picu", "ld_autism", "forensic", "camhs", "older_adult", "rehab", "other")


def bits(a: np.ndarray) -> np.ndarray:
    """The raw bytes of an array, so equality is bitwise (signed zeros, NaN payloads)."""
    a = np.ascontiguousarray(a)
    if a.dtype == object:
        return a.astype(str)
    return a.view(np.uint8).reshape((*a.shape, -1)) if a.ndim else a.view(np.uint8)


def assert_bit_identical(a: np.ndarray, b: np.ndarray, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, f"{what}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
    assert np.array_equal(bits(a), bits(b)), f"{what}: not bit-identical"


@pytest.fixture(scope="module")
def trust_files(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A 36-ward synthetic nation (4 providers, 2 years) with all mess and scenarios, written as CSV.

    ``mixed/`` keeps the generator's ward types; ``nested/`` gives each provider one ward type of its
    own, so every peer pool (ward type x indicator) lies inside one provider.
    """
    trust = generate(TrustSpec(n_wards=36, n_weeks=104, wards_per_provider=9), seed=7)
    root = tmp_path_factory.mktemp("nation")
    write_trust(trust, root / "mixed", "csv")
    providers = sorted(set(trust.wards["provider"].to_list()))
    assert len(providers) >= 3
    nested = trust.wards.with_columns(
        pl.col("provider").replace_strict({p: TYPES[i] for i, p in enumerate(providers)}).alias("ward_type")
    )
    write_trust(trust, root / "nested", "csv")
    nested.write_csv(root / "nested" / "wards.csv")
    return root, providers


def _load(folder, wards: list[str] | None = None, out=None):  # type: ignore[no-untyped-def]
    """Load a dataset, optionally restricted to some wards (files filtered and written to ``out``)."""
    if wards is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, col in (
            ("observations.csv", "ward_id"),
            ("wards.csv", "ward_id"),
            ("events.csv", "ward_id"),
        ):
            frame = pl.read_csv(folder / name, infer_schema_length=0)
            frame.filter(pl.col(col).is_in(wards)).write_csv(out / name)
        folder = out
    return load_dataset(
        folder / "observations.csv", folder / "wards.csv", folder / "events.csv", catalogue=CATALOGUE
    )


def _rows(panel, wards) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.nonzero(np.isin(panel.ward_id, list(wards)))[0]


@pytest.fixture(scope="module")
def nation_nested(trust_files) -> ScoreResult:  # type: ignore[no-untyped-def]
    root, _ = trust_files
    return score(_load(root / "nested"), CFG)


# ---- per-series results: whole panel vs each ward alone ------------------------------------------------
def test_per_series_results_identical_ward_by_ward(nation_nested):
    for cadence, sc in nation_nested.parts.items():
        p = sc.panel
        groups = np.cumsum(sc.rebase, axis=1)
        improvement = np.array([CATALOGUE[str(k)].improvement_direction for k in p.indicator])
        rate = np.where(p.observed, p.rate(), np.nan)
        y = np.where(p.observed, p.y, np.nan)
        full_chart = chart_panel(p, settings=CFG.charts, groups=groups).chart
        full_mon = xmr_monitor(rate, improvement, groups=groups, settings=CFG.charts, monitor=CFG.monitor)
        full_cp = detect_panel(p, CFG.changepoint, catalogue=CATALOGUE)
        full_ds = DataSilence().run(p.y, status=p.status)
        full_det = _detectors(p, y, sc)
        checked = 0
        for ward in np.unique(p.ward_id):
            r = _rows(p, [ward])
            sub = _subpanel(p, r)
            chart = chart_panel(sub, settings=CFG.charts, groups=groups[r]).chart
            mon = xmr_monitor(
                rate[r], improvement[r], groups=groups[r], settings=CFG.charts, monitor=CFG.monitor
            )
            cp = detect_panel(sub, CFG.changepoint, catalogue=CATALOGUE)
            ds = DataSilence().run(p.y[r], status=p.status[r])
            for name in ("mean", "lpl", "upl", "sigma", "point_type", "rule", "rule_flags", "side"):
                assert_bit_identical(
                    getattr(chart, name), getattr(full_chart, name)[r], f"{cadence} chart.{name}"
                )
            for name in ("variation_icon", "assurance_icon", "n_points", "last_index"):
                assert_bit_identical(
                    getattr(chart, name), getattr(full_chart, name)[r], f"{cadence} chart.{name}"
                )
            for name in ("mean", "lpl", "upl", "n_baseline", "evaluated", "point_type", "rule", "side"):
                assert_bit_identical(
                    getattr(mon, name), getattr(full_mon, name)[r], f"{cadence} monitor.{name}"
                )
            for name in ("segment_id", "segment_rate", "starts", "n_changes"):
                assert_bit_identical(
                    getattr(cp, name), getattr(full_cp, name)[r], f"{cadence} changepoint.{name}"
                )
            assert_bit_identical(ds.run_length, full_ds.run_length[r], f"{cadence} data silence")
            assert_bit_identical(ds.alarm, full_ds.alarm[r], f"{cadence} data silence alarm")
            for key, (rows_k, full_arrays) in full_det.items():
                mine = np.nonzero(np.isin(rows_k, r))[0]
                if mine.size == 0:
                    continue
                part = _detectors_rows(p, y, sc, rows_k[mine], key)
                for i, (a, b) in enumerate(zip(part, full_arrays, strict=True)):
                    assert_bit_identical(a, b[mine], f"{cadence} {key} detector output {i}")
            checked += r.size
        assert checked == p.shape[0]


def _subpanel(p, rows):  # type: ignore[no-untyped-def]
    import dataclasses

    return dataclasses.replace(
        p,
        ward_id=p.ward_id[rows],
        indicator=p.indicator[rows],
        y=p.y[rows],
        n=p.n[rows],
        status=p.status[rows],
    )


def _detectors_rows(p, y, sc, rows, key):  # type: ignore[no-untyped-def]
    ind = CATALOGUE[key]
    yy, nn, rr, dd = y[rows], p.n[rows], sc.expected_rate[rows], sc.dispersion[rows]
    common = {"direction": ind.direction, "restart": "none"}
    if ind.family == "proportion":
        cusum = BinomialCusum(**common)
    elif ind.family == "measure":
        cusum = PoissonCusum(family="measure", **common)
    else:
        cusum = NegBinCusum(**common)
    out = []
    for side in cusum.run(yy, nn, rr, dd).sides:
        out += [side.statistic, side.alarm, side.onset]
    ew = Ewma(direction=ind.direction, family=ind.family).run(yy, nn, rr, dd)
    out += [ew.sides[0].statistic, ew.alarm]
    if ind.family == "count":
        sil = Silence(family="count").run(yy, nn, rr, dd)
        out += [sil.run_length, sil.probability, sil.alarm]
    return out


def _detectors(p, y, sc):  # type: ignore[no-untyped-def]
    out = {}
    for key in np.unique(p.indicator):
        rows = np.nonzero(p.indicator == key)[0]
        out[str(key)] = (rows, _detectors_rows(p, y, sc, rows, str(key)))
    return out


# ---- the full pipeline: a provider alone vs within the nation -----------------------------------------
SERIES_FIELDS = (
    "expected_rate",
    "baseline_rate",
    "dispersion",
    "provider_factor",
    "z_closure",
    "cusum_up",
    "cusum_down",
    "onset_up",
    "onset_down",
    "alarm_up",
    "alarm_down",
    "ewma",
    "ewma_limit",
    "ewma_alarm",
    "silence_run",
    "silence_prob",
    "silence_alarm",
    "data_silence_run",
    "data_silence_alarm",
    "indicator_alarm",
)


def _by_provider(root, providers, tmp_path):  # type: ignore[no-untyped-def]
    reg = pl.read_csv(root / "wards.csv", infer_schema_length=0)
    for i, prov in enumerate(providers):
        wards = reg.filter(pl.col("provider") == prov)["ward_id"].to_list()
        yield prov, wards, score(_load(root, wards, tmp_path / f"p{i}"), CFG)


def test_each_provider_alone_identical_to_the_nation(trust_files, nation_nested, tmp_path):
    root, providers = trust_files
    nation = nation_nested
    for prov, wards, alone in _by_provider(root / "nested", providers, tmp_path):
        assert set(alone.parts) == set(nation.parts)
        for cadence, sc in alone.parts.items():
            full = nation.parts[cadence]
            assert np.array_equal(sc.panel.periods, full.panel.periods), "same period grid"
            r = _rows(full.panel, wards)
            assert_bit_identical(sc.panel.ward_id.astype(str), full.panel.ward_id[r].astype(str), "ward ids")
            assert_bit_identical(sc.panel.indicator.astype(str), full.panel.indicator[r].astype(str), "keys")
            for name in SERIES_FIELDS:
                assert_bit_identical(getattr(sc, name), getattr(full, name)[r], f"{prov} {cadence} {name}")
        w = np.nonzero(np.isin(nation.wards.ward_id, wards))[0]
        for name in ("domain_stat", "domain_since", "data_silence", "single_alarm", "level", "score"):
            assert_bit_identical(
                getattr(alone.wards, name), getattr(nation.wards, name)[w], f"{prov} ward {name}"
            )
        mine = pl.col("ward_id").is_in(wards) | (pl.col("provider") == prov)
        assert alone.alerts.equals(nation.alerts.filter(mine)), f"{prov}: alerts differ"
        assert alone.ward_status.equals(nation.ward_status.filter(pl.col("ward_id").is_in(wards)))
        assert alone.alerts.height > 0


def test_control_peer_pools_matter(trust_files, tmp_path):
    """With mixed ward types a provider alone has fewer peers, so its shrunk baselines change."""
    root, providers = trust_files
    nation = score(_load(root / "mixed"), CFG)
    _prov, wards, alone = next(_by_provider(root / "mixed", providers, tmp_path))
    sc, full = alone.parts["weekly"], nation.parts["weekly"]
    r = _rows(full.panel, wards)
    a, b = sc.baseline_rate, full.baseline_rate[r]
    assert not np.array_equal(bits(a), bits(b)), "peer pooling should make a provider-alone run differ"
