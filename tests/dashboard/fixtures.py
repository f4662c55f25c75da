"""Builder of a small but realistic data + results folder satisfying ``docs/results-contract.md``.

Until the real pipeline (``wardwatch score``) is wired into the dashboard tests this builder stands
in for it. It simulates weekly Poisson counts and binomial proportions per ward and indicator with
numpy (vectorised over series), plants one closed-culture episode (restraint up, complaints and
family visits down, agency use up) on one ward, and derives every contract column with simple but
honest statistics: a causal expected rate, XmR limits with a rebase at an event, MDC point types
(outside limits, 7-point runs), a Poisson CUSUM in the direction of concern, a domain score and a
level per ward-week, and alerts with explanations built from the numbers.

``build_results(root, n_wards=...)`` scales to national size (2,500 wards) for the performance test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from engine.contract.results import ALERT_FILE_SCHEMA

START = dt.date(2023, 1, 2)  # a Monday
#: (key, domain, family, direction, base rate per unit exposure, exposure per week)
INDICATORS: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("restraint", "restrictive_practice", "count", "up", 0.005, 140.0),
    ("seclusion", "restrictive_practice", "count", "up", 0.002, 140.0),
    ("injuries", "harm_and_reporting", "count", "up", 0.004, 140.0),
    ("incidents_reported", "harm_and_reporting", "count", "both", 0.03, 140.0),
    ("complaints", "voice_and_oversight", "count", "down", 0.012, 140.0),
    ("family_visits", "voice_and_oversight", "count", "down", 0.06, 140.0),
    ("agency_use", "staffing", "proportion", "up", 0.12, 120.0),
)
WARD_TYPES = ("acute_adult", "ld_autism", "picu")
NAMES = ("Ash", "Beech", "Cedar", "Damson", "Elm", "Fir", "Hazel", "Juniper", "Larch", "Maple")
EPISODE_WARD = 2  # "Cedar Ward" (index 2) carries the planted episode
EPISODE_START = 78  # week index where the episode starts
DOMAIN_THRESHOLD = 4.0  # nats: a domain "has evidence" above this
CUSUM_THRESHOLD = 6.0  # nats
WARM_UP = 26  # weeks of baseline before any detector runs


@dataclass(frozen=True)
class FixturePaths:
    """Where the builder wrote things and what a test can assert on."""

    data_dir: Path
    results_dir: Path
    episode_ward: str
    episode_ward_name: str
    episode_alert_id: str
    episode_explanation: str


def _alert_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def _mdc_point_types(rate: np.ndarray, mean: np.ndarray, lpl: np.ndarray, upl: np.ndarray, sign: np.ndarray):
    """(point_type, rule) arrays (S, T): outside limits, then 7 points on one side (PTD precedence)."""
    S, T = rate.shape
    side = np.sign(rate - mean)
    side[np.isnan(rate)] = 0
    run = np.zeros((S, T), dtype=np.int32)
    in_run = np.zeros((S, T), dtype=bool)
    for t in range(T):  # loop over periods only
        prev = run[:, t - 1] if t else np.zeros(S, dtype=np.int32)
        same = (side[:, t] != 0) & (t > 0) & (side[:, t] == side[:, t - 1] if t else False)
        run[:, t] = np.where(side[:, t] == 0, 0, np.where(same, prev + 1, 1))
        hit = run[:, t] >= 7
        for back in range(7):
            if t - back >= 0:
                in_run[:, t - back] |= hit
    outside = (rate > upl) | (rate < lpl)
    v = np.where(outside | in_run, side, 0)
    # sign: +1 = rise is concern, -1 = fall is concern, 0 = both directions (neutral)
    pt = np.full((S, T), "common_cause", dtype=object)
    concern = (v != 0) & (v * sign[:, None] > 0)
    improve = (v != 0) & (v * sign[:, None] < 0)
    neutral = (v != 0) & (sign[:, None] == 0)
    pt[concern] = "special_cause_concern"
    pt[improve] = "special_cause_improvement"
    pt[neutral & (v > 0)] = "special_cause_neutral_high"
    pt[neutral & (v < 0)] = "special_cause_neutral_low"
    rule = np.full((S, T), "", dtype=object)
    rule[in_run] = "run"
    rule[outside] = "outside_limits"
    rule[v == 0] = ""
    return pt, rule


def build_results(
    root: Path,
    *,
    n_wards: int = 12,
    weeks: int = 104,
    seed: int = 20240501,
    ward_names: dict[int, str] | None = None,
    note_on_event: str = "New ward manager started",
) -> FixturePaths:
    """Write ``root/data`` (wards, events, observations) and ``root/data/results`` (contract files).

    Parameters
    ----------
    n_wards : int
        Number of wards (>= 3); two providers, ward types cycle through three types.
    weeks : int
        Weekly periods from 02/01/2023.
    ward_names : dict, optional
        Override names by ward index (e.g. a hostile name for escaping tests).
    """
    rng = np.random.default_rng(seed)
    data_dir = root / "data"
    results_dir = data_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    W, T, K = n_wards, weeks, len(INDICATORS)
    ward_ids = np.array([f"W{i + 1:04d}" for i in range(W)])
    names = [
        f"{NAMES[i % len(NAMES)]} Ward" + (f" {i // len(NAMES) + 1}" if i >= len(NAMES) else "")
        for i in range(W)
    ]
    for i, nm in (ward_names or {}).items():
        names[i] = nm
    providers = np.where(np.arange(W) % 2 == 0, "North Trust", "South Trust")
    wtypes = np.array([WARD_TYPES[i % 3] for i in range(W)])
    periods = [START + dt.timedelta(weeks=t) for t in range(T)]
    periods_np = np.array(periods, dtype="datetime64[D]")

    # ---------------------------------------------------------------- simulate (S = W*K series, T)
    S = W * K
    s_ward = np.repeat(np.arange(W), K)
    s_ind = np.tile(np.arange(K), W)
    base = np.array([ind[4] for ind in INDICATORS])[s_ind] * rng.gamma(20, 1 / 20, size=S)
    expo = np.array([ind[5] for ind in INDICATORS])[s_ind][:, None] * rng.uniform(0.85, 1.15, size=(S, T))
    expo = np.round(expo)
    mult = np.ones((S, T))
    effect = {"restraint": 2.2, "seclusion": 1.8, "complaints": 0.25, "family_visits": 0.4, "agency_use": 2.0}
    if W > EPISODE_WARD and T > EPISODE_START + 10:
        for k, (key, *_rest) in enumerate(INDICATORS):
            if key in effect:
                mult[EPISODE_WARD * K + k, EPISODE_START:] = effect[key]
    lam = base[:, None] * mult
    fam = np.array([ind[2] for ind in INDICATORS])[s_ind]
    is_prop = fam == "proportion"
    y = np.where(
        is_prop[:, None],
        rng.binomial(expo.astype(np.int64), np.clip(lam, 0, 0.95)),
        rng.poisson(lam * expo),
    ).astype(float)
    status = np.full((S, T), "observed", dtype=object)
    sup = rng.random((S, T)) < 0.01
    y[sup] = np.nan
    status[sup] = "suppressed"
    rate = y / expo

    # ---------------------------------------------------------------- causal expected rate
    cy = np.nancumsum(np.nan_to_num(y), axis=1)
    cn = np.cumsum(np.where(np.isnan(y), 0, expo), axis=1)
    exp_rate = np.full((S, T), np.nan)
    exp_rate[:, 1:] = (cy[:, :-1] + 0.5) / (cn[:, :-1] + 1.0)
    exp_rate[:, 1:] = np.where(cn[:, :-1] > 0, exp_rate[:, 1:], np.nan)

    # ---------------------------------------------------------------- XmR with a rebase on ward 1
    rebase_t = np.full(S, T)
    if W > 1:
        rebase_t[s_ward == 1] = T // 3
    t_idx = np.arange(T)[None, :]
    phase2 = t_idx >= rebase_t[:, None]
    mean = np.empty((S, T))
    lpl = np.empty((S, T))
    upl = np.empty((S, T))
    for ph in (False, True):
        mask = phase2 == ph
        start = np.where(ph, rebase_t, 0)
        win = mask & (t_idx < start[:, None] + 26) & ~np.isnan(rate)
        r = np.where(win, rate, np.nan)
        m = np.nanmean(np.where(win.any(axis=1, keepdims=True), r, 0.0), axis=1)
        mr = np.abs(np.diff(r, axis=1))
        mrbar = np.nanmean(np.where(np.isnan(mr).all(axis=1, keepdims=True), 0.0, mr), axis=1)
        mean = np.where(mask, m[:, None], mean)
        lpl = np.where(mask, np.maximum(m - 2.66 * mrbar, 0.0)[:, None], lpl)
        upl = np.where(mask, (m + 2.66 * mrbar)[:, None], upl)
    dirs = np.array([ind[3] for ind in INDICATORS])[s_ind]
    sign = np.select([dirs == "up", dirs == "down"], [1, -1], 0)
    point_type, rule = _mdc_point_types(rate, mean, lpl, upl, sign)

    # ---------------------------------------------------------------- Poisson CUSUMs (nats)
    up_on = dirs != "down"
    down_on = dirs != "up"
    mu = np.nan_to_num(exp_rate, nan=np.nanmean(rate)) * expo
    cu = np.zeros((S, T))
    cd = np.zeros((S, T))
    r_up, r_dn = 2.0, 0.4
    for t in range(WARM_UP, T):
        yt = np.nan_to_num(y[:, t])
        obs = ~np.isnan(y[:, t])
        inc_u = np.where(obs, yt * np.log(r_up) - (r_up - 1) * mu[:, t], 0.0)
        inc_d = np.where(obs, yt * np.log(r_dn) - (r_dn - 1) * mu[:, t], 0.0)
        cu[:, t] = np.maximum(0.0, (cu[:, t - 1] if t else 0.0) + inc_u)
        cd[:, t] = np.maximum(0.0, (cd[:, t - 1] if t else 0.0) + inc_d)
    # silence: run of zero counts
    zero = (y == 0).astype(np.int32)
    silence = np.zeros((S, T), dtype=np.int32)
    for t in range(T):
        silence[:, t] = np.where(zero[:, t] == 1, (silence[:, t - 1] if t else 0) + 1, 0)
    seg = np.zeros((S, T), dtype=np.int32)
    seg[(s_ward == EPISODE_WARD)[:, None] & (t_idx >= EPISODE_START)] = 1

    keys = np.array([ind[0] for ind in INDICATORS])
    series = pl.DataFrame(
        {
            "ward_id": np.repeat(ward_ids[s_ward], T),
            "indicator": np.repeat(keys[s_ind], T),
            "period": np.tile(periods_np, S),
            "cadence": np.full(S * T, "weekly"),
            "numerator": y.ravel(),
            "denominator": expo.ravel(),
            "status": status.ravel().astype(str),
            "rate": rate.ravel(),
            "expected_rate": exp_rate.ravel(),
            "chart_mean": mean.ravel(),
            "chart_lpl": lpl.ravel(),
            "chart_upl": upl.ravel(),
            "point_type": point_type.ravel().astype(str),
            "rule": rule.ravel().astype(str),
            "cusum_up": np.where(up_on[:, None], cu, np.nan).ravel(),
            "cusum_down": np.where(down_on[:, None], cd, np.nan).ravel(),
            "cusum_threshold": np.full(S * T, CUSUM_THRESHOLD),
            "ewma": np.zeros(S * T),
            "ewma_lcl": np.full(S * T, -0.5),
            "ewma_ucl": np.full(S * T, 0.5),
            "silence_run": silence.ravel(),
            "silence_prob": np.where(silence > 0, 0.5**silence, 1.0).ravel(),
            "segment": seg.ravel(),
            "segment_rate": rate.ravel(),
        },
    ).with_columns(pl.col("numerator", "rate", "segment_rate").fill_nan(None))
    series.write_parquet(results_dir / "series.parquet", row_group_size=64 * 1024)

    # ---------------------------------------------------------------- ward status (W, T)
    evidence = np.maximum(np.where(up_on[:, None], cu, 0), np.where(down_on[:, None], cd, 0))
    evidence = evidence.reshape(W, K, T)
    domains = ("restrictive_practice", "harm_and_reporting", "voice_and_oversight", "staffing")
    ind_dom = np.array([ind[1] for ind in INDICATORS])
    dom_score = np.stack([evidence[:, ind_dom == d, :].max(axis=1) for d in domains], axis=1)  # (W,4,T)
    has = dom_score > DOMAIN_THRESHOLD
    n_dom = has.sum(axis=1)
    score = np.where(has, dom_score, 0).sum(axis=1)
    level = np.select(
        [(n_dom >= 2) & (dom_score[:, 0, :] > 8.0), n_dom >= 2, (n_dom == 1) | (evidence.max(axis=1) > 3)],
        ["urgent", "concern", "watch"],
        "none",
    )
    dom_names = np.array(domains)
    dom_text = np.array(
        [[";".join(dom_names[has[w, :, t]]) for t in range(T)] for w in range(W)], dtype=object
    )
    ind_text = np.array(
        [[";".join(keys[evidence[w, :, t] > DOMAIN_THRESHOLD]) for t in range(T)] for w in range(W)],
        dtype=object,
    )

    # ---------------------------------------------------------------- alerts
    alert_rows = []
    alert_col = np.full((W, T), "", dtype=object)
    high = np.isin(level, ["concern", "urgent"])
    edges = np.diff(
        np.concatenate([np.zeros((W, 1), bool), high, np.zeros((W, 1), bool)], axis=1).astype(np.int8), axis=1
    )
    for w, t0 in zip(*np.nonzero(edges == 1), strict=True):  # one alert per run of concern
        t1 = int(np.flatnonzero(edges[w, t0 + 1 :] == -1)[0]) + t0 + 1  # first period after the run
        last = t1 - 1
        still_open = t1 >= T
        aid = _alert_id(ward_ids[w], "ward", "", "combined", periods[t0].isoformat())
        if still_open:
            alert_col[w, t0:] = aid
        contributing = [keys[k] for k in range(K) if evidence[w, k, last] > DOMAIN_THRESHOLD]
        expl = _explain(w, t0, last, contributing, y, expo, exp_rate, K, keys, periods)
        alert_rows.append(
            {
                "alert_id": aid,
                "ward_id": ward_ids[w],
                "scope": "ward",
                "indicator": "",
                "method": "combined",
                "level": str(level[w, last]),
                "direction": "up",
                "opened": periods[t0].isoformat(),
                "onset_estimate": periods[max(0, t0 - 4)].isoformat(),
                "last_seen": periods[last].isoformat(),
                "closed": "" if still_open else periods[t1].isoformat(),
                "statistic": round(float(score[w, last]), 3),
                "threshold": DOMAIN_THRESHOLD * 2,
                "explanation": expl,
                "provider": providers[w],
                "contributing": ";".join(contributing),
                "questions": " | ".join(_questions(contributing)),
            }
        )
    # indicator alerts: CUSUM crossing in the direction of concern
    cross = evidence > CUSUM_THRESHOLD
    for w, k in zip(*np.nonzero(cross.any(axis=2)), strict=True):
        t0 = int(np.argmax(cross[w, k]))
        s = w * K + k
        aid = _alert_id(ward_ids[w], "indicator", keys[k], "cusum", periods[t0].isoformat())
        alert_rows.append(
            {
                "alert_id": aid,
                "ward_id": ward_ids[w],
                "scope": "indicator",
                "indicator": keys[k],
                "method": "cusum",
                "level": "watch",
                "direction": "down" if cd[s, t0] > cu[s, t0] else "up",
                "opened": periods[t0].isoformat(),
                "onset_estimate": periods[max(0, t0 - 3)].isoformat(),
                "last_seen": periods[T - 1].isoformat(),
                "closed": "",
                "statistic": round(float(evidence[w, k, t0]), 3),
                "threshold": CUSUM_THRESHOLD,
                "explanation": f"{keys[k].replace('_', ' ').capitalize()}: the CUSUM crossed its threshold "
                f"of {CUSUM_THRESHOLD:.1f} on {periods[t0]:%d/%m/%Y}.",
                "provider": providers[w],
                "contributing": keys[k],
                "questions": " | ".join(_questions([keys[k]])),
            }
        )
    alerts = pl.DataFrame(
        alert_rows,
        schema=ALERT_FILE_SCHEMA,
    )
    alerts.write_csv(results_dir / "alerts.csv")

    status_frame = pl.DataFrame(
        {
            "ward_id": np.repeat(ward_ids, T),
            "period": np.tile(periods_np, W),
            "level": level.ravel().astype(str),
            "score": np.round(score.ravel(), 4),
            "domains": dom_text.ravel().astype(str),
            "indicators": ind_text.ravel().astype(str),
            "alert_id": alert_col.ravel().astype(str),
            **{f"score_{d}": np.round(dom_score[:, i, :].ravel(), 4) for i, d in enumerate(domains)},
            "score_data_silence": np.zeros(W * T),
        },
    )
    status_frame.write_csv(results_dir / "ward_status.csv", date_format="%Y-%m-%d")

    # ---------------------------------------------------------------- data folder
    pl.DataFrame(
        {
            "ward_id": ward_ids,
            "ward_name": names,
            "provider": providers,
            "ward_type": wtypes,
            "beds": np.full(W, 20),
        }
    ).write_csv(data_dir / "wards.csv")
    events = [
        {
            "ward_id": ward_ids[1],
            "date": periods[T // 3].isoformat(),
            "kind": "rebase",
            "note": "Ward reconfigured",
        }
    ]
    if W > EPISODE_WARD and T > EPISODE_START:
        events.append(
            {
                "ward_id": ward_ids[EPISODE_WARD],
                "date": periods[EPISODE_START - 2].isoformat(),
                "kind": "manager_change",
                "note": note_on_event,
            }
        )
    pl.DataFrame(events).write_csv(data_dir / "events.csv")
    series.select("ward_id", "period", "indicator", "numerator", "denominator").write_csv(
        data_dir / "observations.csv", date_format="%Y-%m-%d"
    )
    (results_dir / "run.json").write_text(
        json.dumps(
            {
                "wardwatch_version": "fixture",
                "as_of": periods[-1].isoformat(),
                "seed": seed,
                "rows": {"read": series.height, "accepted": series.height, "rejected": 0},
                "generator": "tests/dashboard/fixtures.py",
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    ep = next(
        (
            a
            for a in reversed(alert_rows)
            if a["ward_id"] == ward_ids[min(EPISODE_WARD, W - 1)] and a["scope"] == "ward"
        ),
        None,
    )
    return FixturePaths(
        data_dir=data_dir,
        results_dir=results_dir,
        episode_ward=str(ward_ids[min(EPISODE_WARD, W - 1)]),
        episode_ward_name=names[min(EPISODE_WARD, W - 1)],
        episode_alert_id=ep["alert_id"] if ep else "",
        episode_explanation=ep["explanation"] if ep else "",
    )


def _explain(w, t0, last, contributing, y, expo, exp_rate, K, keys, periods) -> str:  # type: ignore[no-untyped-def]
    """Plain-English explanation with numbers and UK dates (the engine's style)."""
    from signals import CATALOGUE

    parts = []
    lo = max(t0, last - 7)
    for key in contributing[:3]:
        k = int(np.flatnonzero(keys == key)[0])
        s = w * K + k
        ind = CATALOGUE[key]
        now = np.nansum(y[s, lo : last + 1]) / np.nansum(expo[s, lo : last + 1])
        usual = exp_rate[s, max(1, t0 - 1)]
        parts.append(
            f"{ind.label} has averaged {ind.format_rate(now)} over the last {last - lo + 1} weeks "
            f"against a usual {ind.format_rate(usual)}"
        )
    return (
        f"{'; '.join(parts)}. The pattern probably began around {periods[max(0, t0 - 4)]:%d/%m/%Y} "
        f"and reached concern on {periods[t0]:%d/%m/%Y}."
    )


def _questions(keys: list[str]) -> list[str]:
    from signals import CATALOGUE

    out: list[str] = []
    for k in keys:
        out.extend(CATALOGUE[k].questions[:1])
    return out
