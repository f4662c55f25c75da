"""The seeded generator: ``generate(spec, seed) -> SyntheticTrust``.

Model (ward ``w``, period ``t``, indicator ``i``)::

    expected[i, w, t] = base[i, type(w)] * het[i, w] * drift[i, w, t] * season[i, t]
                        * factor[i, w, t] * multiplier[i, w, t]

* ``base``: ward-type table (:mod:`synthetic.rates`); ``het``: mean-one gamma (counts) or a beta
  around the type mean (proportions); ``drift``: mean-one log random walk; ``season``: winter and
  Christmas factors with yearly mean one; ``factor``: mean-one lognormal loading on a weekly AR(1)
  "unsettled ward" factor (restrictive practice, injuries) or "staffing pressure" factor (staffing);
  ``multiplier``: injected episodes and reconfigurations (the ground truth; 1 elsewhere).
* Counts are negative binomial with mean ``expected * exposure`` (occupied bed days, or headcount
  for FTSU); prone restraints are a binomial thinning of restraints; seclusion hours are sums of
  gamma durations of the seclusion and segregation episodes; proportions are beta-binomial.

Every random stream is keyed by name (``numpy.random.default_rng([seed, crc32(name)])``), so turning
scenarios on or off leaves the wards, exposures and in-control latent rates (``expected /
multiplier``) unchanged; the counts themselves are redrawn (Poisson and binomial samplers consume a
value-dependent amount of their stream).
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from engine.contract.observations import MISSING, OBSERVED, SUPPRESSED, UNKNOWN
from engine.contract.truth import TRUTH_SCHEMA
from signals import CATALOGUE, WARD_INDICATORS, WARD_TYPES
from synthetic import rates
from synthetic.draws import beta_binomial, gamma_sum, nb_counts
from synthetic.latent import (
    Calendar,
    ar1,
    christmas_factor,
    lognormal_drift,
    mean_one_gamma,
    winter_factor,
)
from synthetic.mess import Reconfiguration, Submissions, plan_reconfigurations, plan_submissions, suppress
from synthetic.rates import bb_rho, nb_size
from synthetic.rows import IndicatorArrays, contract_frame, long_frame
from synthetic.scenarios import Episode, Planner, WardFrame
from synthetic.spec import TrustSpec

#: Indicators drawn directly from a base rate (everything but the two derived ones).
DIRECT: tuple[str, ...] = tuple(k for k in WARD_INDICATORS if k in rates.BASE_RATES)
#: Scale of the base-rate table per indicator (the table is per 1,000 OBD, per 100 staff, ...).
_TABLE_SCALE = {k: (CATALOGUE[k].scale if CATALOGUE[k].family == "count" else 1.0) for k in DIRECT}
_WARD_NAMES = (
    "Ash", "Beech", "Cedar", "Elm", "Hazel", "Holly", "Juniper", "Larch", "Linden", "Maple", "Oak",
    "Pine", "Rowan", "Willow", "Yew", "Alder", "Birch", "Cherry", "Hawthorn", "Poplar", "Lavender",
    "Heather", "Bluebell", "Primrose", "Foxglove", "Meadow", "Brook", "Harbour", "Orchard", "Fern",
)  # fmt: skip


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@dataclass(frozen=True)
class SyntheticTrust:
    """A generated trust: files-to-be as polars frames, plus the latent truth for tests.

    Attributes
    ----------
    frame:
        Canonical observation frame (:data:`engine.panel.OBSERVATION_SCHEMA`): numeric numerator
        (null when suppressed or unknown) and ``status``.
    wards, events, truth:
        ``wards.csv``, ``events.csv`` and ``truth.csv`` contents (see ``synthetic/README.md``).
    arrays:
        Indicator key -> :class:`IndicatorArrays` (rows = ``ward_ids``, columns = the cadence's periods).
    episodes:
        The injected :class:`~synthetic.scenarios.Episode` objects (including reconfigurations).
    """

    spec: TrustSpec
    seed: int
    calendar: Calendar
    ward_ids: np.ndarray
    ward_types: np.ndarray
    frame: pl.DataFrame
    wards: pl.DataFrame
    events: pl.DataFrame
    truth: pl.DataFrame
    arrays: dict[str, IndicatorArrays] = field(repr=False)
    episodes: list[Episode] = field(repr=False)

    @cached_property
    def observations(self) -> pl.DataFrame:
        """The contract's long format, as written to ``observations.csv`` (numerator as text)."""
        return contract_frame(self.frame)

    def periods(self, key: str) -> np.ndarray:
        """Period grid (``datetime64[D]``) of an indicator's cadence."""
        return self.calendar.weeks if self.arrays[key].cadence == "weekly" else self.calendar.months


# ---------------------------------------------------------------------------------------- wards
@dataclass(frozen=True)
class _Wards:
    ids: np.ndarray
    names: np.ndarray
    ward_type: np.ndarray
    type_idx: np.ndarray
    provider: np.ndarray
    beds: np.ndarray
    occ_mean: np.ndarray
    staff0: np.ndarray


def _make_wards(spec: TrustSpec, rng: np.random.Generator) -> _Wards:
    n = spec.n_wards
    mix = np.array([spec.ward_type_mix.get(t, 0.0) for t in WARD_TYPES], dtype=float)
    mix = mix / mix.sum()
    raw = mix * n
    counts = np.floor(raw).astype(int)
    short = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1  # largest remainder
    type_idx = rng.permutation(np.repeat(np.arange(len(WARD_TYPES)), counts))
    ward_type = np.array(WARD_TYPES)[type_idx]
    width = max(4, len(str(n)))
    ids = np.array([f"W{i + 1:0{width}d}" for i in range(n)])
    k = len(_WARD_NAMES)
    names = np.array([f"{_WARD_NAMES[i % k]} Ward" + (f" {i // k + 1}" if i >= k else "") for i in range(n)])
    provider = np.arange(n) // max(1, spec.wards_per_provider)
    beds = rng.integers(spec.beds[0], spec.beds[1] + 1, n)
    occ_mean = rng.uniform(*spec.occupancy, n)
    staff_per_bed = np.array([rates.STAFF_PER_BED[t] for t in WARD_TYPES])[type_idx]
    staff0 = beds * staff_per_bed * rng.uniform(0.9, 1.1, n)
    return _Wards(ids, names, ward_type, type_idx, provider, beds, occ_mean, staff0)


def _type_values(table: Mapping[str, float], type_idx: np.ndarray) -> np.ndarray:
    """Per ward, the value of its ward type in ``table`` (``{ward type: value}``)."""
    return np.array([table[t] for t in WARD_TYPES], dtype=float)[type_idx]


# ---------------------------------------------------------------------------------------- generate
def generate(spec: TrustSpec | None = None, seed: int = 0) -> SyntheticTrust:
    """Generate a synthetic trust (pure function of ``spec`` and ``seed``).

    Parameters
    ----------
    spec:
        Trust specification (default: the demo trust).
    seed:
        Non-negative integer seed; the same ``(spec, seed)`` always gives identical output.

    Raises
    ------
    synthetic.scenarios.ScenarioError
        When the requested scenarios do not fit (too few wards or weeks).
    """
    spec = spec or TrustSpec()
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    cal = Calendar.build(spec.start, spec.n_weeks)
    W, Tw = spec.n_wards, cal.weeks.size
    wards = _make_wards(spec, _rng(seed, "wards"))

    subs, reconf, episodes = _plan(seed, spec, cal, wards)
    all_episodes = reconf.episodes + episodes
    mult_w = {k: np.ones((W, Tw)) for k in DIRECT}
    for ep in all_episodes:
        ep.apply(mult_w)

    # ---- exposures
    expo = _exposures(seed, spec, cal, wards, reconf)

    # ---- latent expected rates
    expected, multiplier = _latent(seed, spec, cal, wards, mult_w)

    # ---- draws
    extra = _extra(seed, wards)
    y = _draw(seed, expected, expo, extra, spec.dispersion_scale)
    for ep in all_episodes:
        for w, wk in zip(ep.wards, ep.manager_change, strict=True):
            if wk >= 0:
                y["manager_changes"][w, wk] += 1.0

    _derive_latent(expected, multiplier, extra)

    arrays = _finish(seed, spec, cal, subs, expected, multiplier, y, expo)
    frame = long_frame(arrays, cal, wards.ids)
    return SyntheticTrust(
        spec=spec,
        seed=seed,
        calendar=cal,
        ward_ids=wards.ids,
        ward_types=wards.ward_type,
        frame=frame,
        wards=_ward_register(spec, wards, reconf),
        events=_events(cal, wards, reconf, y["manager_changes"], episodes),
        truth=_truth(cal, wards, all_episodes, expected, extra["secl_hours"]),
        arrays=arrays,
        episodes=all_episodes,
    )


def _plan(
    seed: int, spec: TrustSpec, cal: Calendar, wards: _Wards
) -> tuple[Submissions, Reconfiguration, list[Episode]]:
    """The mess plan (submissions, reconfigurations) and the scenario episodes placed around it
    (reconfigured wards excluded; weeks busy with a reconfiguration left free)."""
    W, Tw = spec.n_wards, cal.weeks.size
    subs = plan_submissions(_rng(seed, "submissions"), cal, W, spec.mess)
    reconf = plan_reconfigurations(
        _rng(seed, "reconfigurations"), spec.mess, Tw, wards.beds, subs.join_week, spec.beds
    )
    excluded = np.zeros(W, bool)
    excluded[reconf.wards] = True
    cetr_share = _type_values(rates.CETR_ELIGIBLE_SHARE, wards.type_idx)
    planner = Planner(spec.scenarios, Tw, cal.weeks)
    busy = np.zeros((W, Tw), bool)
    for ep in reconf.episodes:
        lo, hi = planner.busy_span(ep)
        busy[ep.wards, lo : hi + 1] = True
    episodes = planner.plan(
        _rng(seed, "scenarios"),
        WardFrame(wards.ward_type, wards.provider, subs.join_week, excluded, cetr_share, busy),
    )
    return subs, reconf, episodes


def _derive_latent(
    expected: dict[str, np.ndarray], multiplier: dict[str, np.ndarray], extra: dict[str, np.ndarray]
) -> None:
    """Add the derived indicators' expected values and multipliers in place: prone restraint (a
    share of restraints) and seclusion hours (seclusion episodes times their mean hours, plus a
    week per long-term segregation)."""
    expected["prone_restraint"] = expected["restraint"] * extra["prone_share"][:, None]
    multiplier["prone_restraint"] = multiplier["restraint"]
    sh = expected["seclusion"] * extra["secl_hours"][:, None] + expected["long_term_segregation"] * (
        rates.SEGREGATION_WEEK_HOURS
    )
    sh0 = (
        expected["seclusion"] / multiplier["seclusion"] * extra["secl_hours"][:, None]
        + expected["long_term_segregation"]
        / multiplier["long_term_segregation"]
        * rates.SEGREGATION_WEEK_HOURS
    )
    expected["seclusion_hours"] = sh
    multiplier["seclusion_hours"] = sh / sh0


def _extra(seed: int, wards: _Wards) -> dict[str, np.ndarray]:
    """Ward-level constants of the derived indicators (prone share, mean seclusion hours)."""
    rng = _rng(seed, "derived")
    n = wards.ids.size
    prone = np.clip(_type_values(rates.PRONE_SHARE, wards.type_idx) * mean_one_gamma(rng, n, 0.3), 0.0, 0.5)
    hours = _type_values(rates.SECLUSION_HOURS, wards.type_idx) * mean_one_gamma(rng, n, 0.3)
    return {"prone_share": prone, "secl_hours": hours}


def _exposures(
    seed: int, spec: TrustSpec, cal: Calendar, wards: _Wards, reconf: Reconfiguration
) -> dict[str, np.ndarray]:
    """Denominators: weekly OBD, shifts, headcount, eligible patients; monthly staffing ones."""
    rng = _rng(seed, "exposures")
    W, Tw = wards.ids.size, cal.weeks.size
    beds_t = np.repeat(wards.beds[:, None].astype(float), Tw, axis=1)
    for w, wk, nb in zip(reconf.wards, reconf.week, reconf.new_beds, strict=True):
        beds_t[w, wk:] = nb
    m, kappa = wards.occ_mean[:, None], spec.occupancy_kappa
    occ = rng.beta(np.broadcast_to(m * kappa, (W, Tw)), np.broadcast_to((1 - m) * kappa, (W, Tw)))
    obd = np.maximum(1.0, np.round(beds_t * 7.0 * occ))
    staff_t = wards.staff0[:, None] * beds_t / wards.beds[:, None]
    first = cal.month_first_week
    Tm = cal.months.size
    headcount_m = np.maximum(3.0, np.round(staff_t[:, first] * (1.0 + 0.03 * rng.standard_normal((W, Tm)))))
    shifts = np.maximum(1.0, rng.poisson(staff_t * 3.3 * occ / m).astype(float))
    share = _type_values(rates.CETR_ELIGIBLE_SHARE, wards.type_idx)
    occupied = np.round(beds_t * occ).astype(np.int64)
    eligible = rng.binomial(occupied, np.broadcast_to(share[:, None], (W, Tw))).astype(float)
    # only wards that routinely hold C(E)TR-eligible patients report the indicator (always >= 1)
    applies = share >= rates.CETR_MIN_SHARE
    eligible = np.where(applies[:, None], np.maximum(eligible, 1.0), 0.0)
    funded = np.round(staff_t[:, first] * 0.9, 1)
    days = ((cal.months.astype("datetime64[M]") + 1).astype("datetime64[D]") - cal.months).astype(float)
    contracted = np.round(headcount_m * 0.85 * 37.5 * days[None, :] / 7.0)
    return {
        "obd": obd,
        "headcount_w": headcount_m[:, cal.week_month],
        "headcount_m": headcount_m,
        "shifts": shifts,
        "eligible": eligible,
        "funded": funded,
        "contracted": contracted,
    }


def _latent(
    seed: int, spec: TrustSpec, cal: Calendar, wards: _Wards, mult_w: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Expected numerator per unit exposure (and the injected multiplier) for the direct indicators."""
    W = wards.ids.size
    Tw, Tm = cal.weeks.size, cal.months.size
    rng_f = _rng(seed, "factors")
    unsettled = ar1(rng_f, W, Tw, spec.unsettled_ar)
    staffing = ar1(rng_f, W, Tw, spec.staffing_ar)
    expected: dict[str, np.ndarray] = {}
    multiplier: dict[str, np.ndarray] = {}
    for key in DIRECT:
        ind = CATALOGUE[key]
        rng = _rng(seed, f"latent:{key}")
        weekly = ind.cadence == "weekly"
        T = Tw if weekly else Tm
        dates = cal.weeks if weekly else cal.months + np.timedelta64(14, "D")
        base = _type_values(rates.BASE_RATES[key], wards.type_idx)
        if ind.family == "count":
            base = base * spec.rate_scale
        if ind.family == "proportion":
            kappa = rates.HETEROGENEITY_KAPPA[key]
            level = rng.beta(base * kappa, (1.0 - base) * kappa)
        else:
            level = base * mean_one_gamma(rng, W, rates.HETEROGENEITY_CV[key])
        step_sd = rates.DRIFT_SD[key] * (1.0 if weekly else np.sqrt(365.25 / 7.0 / 12.0))
        drift = lognormal_drift(rng, W, T, step_sd)
        season = winter_factor(dates, rates.WINTER_AMPLITUDE.get(key, 0.0))
        if key in rates.CHRISTMAS_DIP:
            season = season * christmas_factor(dates, rates.CHRISTMAS_DIP[key], 7 if weekly else 31)
        factor = np.ones((W, T))
        for latent, loadings in ((unsettled, rates.UNSETTLED_LOADING), (staffing, rates.STAFFING_LOADING)):
            b = loadings.get(key, 0.0)
            if b:
                z = latent if weekly else latent[:, cal.month_first_week]
                factor = factor * np.exp(b * z - 0.5 * b * b)
        mult = mult_w[key] if weekly else cal.month_mean(mult_w[key])
        mu = level[:, None] * drift * season[None, :] * factor * mult
        if ind.family == "proportion":
            mu = np.clip(mu, 1e-4, 0.98)
        expected[key] = mu / _TABLE_SCALE[key]
        multiplier[key] = mult
    return expected, multiplier


def _draw(
    seed: int,
    expected: dict[str, np.ndarray],
    expo: dict[str, np.ndarray],
    expected_extra: dict[str, np.ndarray],
    dispersion_scale: float = 1.0,
) -> dict[str, np.ndarray]:
    """Numerators for every indicator (before missingness and suppression); NB ``1 / size`` and
    beta-binomial ``rho`` are multiplied by ``dispersion_scale``."""
    y: dict[str, np.ndarray] = {}
    size = nb_size(dispersion_scale)
    rho = bb_rho(dispersion_scale)

    def rng(key: str) -> np.random.Generator:
        return _rng(seed, f"draw:{key}")

    obd, hc_w, hc_m = expo["obd"], expo["headcount_w"], expo["headcount_m"]
    for key in DIRECT:
        ind = CATALOGUE[key]
        if ind.family != "count":
            continue
        n = hc_w if key == "ftsu_concerns" else (obd if ind.exposure else 1.0)
        y[key] = nb_counts(rng(key), expected[key] * n, size[key])
    r = rng("prone_restraint")
    y["prone_restraint"] = r.binomial(
        y["restraint"].astype(np.int64), expected_extra["prone_share"][:, None] * np.ones_like(obd)
    ).astype(float)
    r = rng("seclusion_hours")
    hours = gamma_sum(r, y["seclusion"], expected_extra["secl_hours"][:, None], 1.5)
    hours += gamma_sum(r, y["long_term_segregation"], rates.SEGREGATION_WEEK_HOURS, 2.0)
    # recorded to 0.1 h; any recorded episode lasts at least 0.1 h
    episodes = (y["seclusion"] + y["long_term_segregation"]) > 0
    y["seclusion_hours"] = np.where(episodes, np.maximum(np.round(hours, 1), 0.1), 0.0)
    y["cetr_overdue"] = beta_binomial(
        rng("cetr_overdue"), expo["eligible"], expected["cetr_overdue"], rho["cetr_overdue"]
    )
    pa, pb = expected["agency_use"], expected["bank_use"]
    y["agency_use"] = beta_binomial(rng("agency_use"), expo["shifts"], pa, rho["agency_use"])
    y["bank_use"] = beta_binomial(
        rng("bank_use"),
        expo["shifts"] - y["agency_use"],
        np.clip(pb / (1.0 - pa), 0.0, 0.999),
        rho["bank_use"],
    )
    for key in ("staff_turnover", "supervision_compliance", "training_compliance"):
        y[key] = beta_binomial(rng(key), hc_m, expected[key], rho[key])
    units = np.round(expo["funded"] * 10.0)
    y["vacancy_rate"] = (
        beta_binomial(rng("vacancy_rate"), units, expected["vacancy_rate"], rho["vacancy_rate"]) / 10.0
    )
    y["sickness_absence"] = beta_binomial(
        rng("sickness_absence"), expo["contracted"], expected["sickness_absence"], rho["sickness_absence"]
    )
    return y


def _denominator(key: str, expo: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    ind = CATALOGUE[key]
    if not ind.exposure:
        return np.ones(shape)
    return {
        "ftsu_concerns": expo["headcount_w"],
        "cetr_overdue": expo["eligible"],
        "agency_use": expo["shifts"],
        "bank_use": expo["shifts"],
        "staff_turnover": expo["headcount_m"],
        "supervision_compliance": expo["headcount_m"],
        "training_compliance": expo["headcount_m"],
        "vacancy_rate": expo["funded"],
        "sickness_absence": expo["contracted"],
    }.get(key, expo["obd"])


def _finish(
    seed: int,
    spec: TrustSpec,
    cal: Calendar,
    subs: Submissions,
    expected: dict[str, np.ndarray],
    multiplier: dict[str, np.ndarray],
    y: dict[str, np.ndarray],
    expo: dict[str, np.ndarray],
) -> dict[str, IndicatorArrays]:
    """Apply missingness, unknown values and suppression; bundle the arrays per indicator."""
    mess = spec.mess
    out: dict[str, IndicatorArrays] = {}
    for key in WARD_INDICATORS:
        ind = CATALOGUE[key]
        weekly = ind.cadence == "weekly"
        values = y[key]
        n = _denominator(key, expo, values.shape)
        written = (subs.weekly if weekly else subs.monthly) & (n > 0)
        status = np.where(written, OBSERVED, MISSING).astype(np.int8)
        if mess.enabled and mess.unknown_prob > 0:
            unknown = _rng(seed, f"unknown:{key}").random(values.shape) < mess.unknown_prob
            status[written & unknown] = UNKNOWN
        published = values.copy()
        if mess.suppression and ind.family == "count":
            published, small = suppress(values)
            status[(status == OBSERVED) & small] = SUPPRESSED
        published = np.where(status == OBSERVED, published, np.nan)
        out[key] = IndicatorArrays(
            key, ind.cadence, values, n, expected[key], multiplier[key], status, published
        )
    if spec.workforce_cadence == "monthly":
        for key in WORKFORCE_WEEKLY:
            out[key] = monthly_returns(out[key], cal)
    return out


#: Weekly workforce returns (staffing-domain proportions of shifts) that ``workforce_cadence =
#: "monthly"`` writes as monthly sums.
WORKFORCE_WEEKLY: tuple[str, ...] = tuple(
    k
    for k in WARD_INDICATORS
    if CATALOGUE[k].domain == "staffing"
    and CATALOGUE[k].cadence == "weekly"
    and CATALOGUE[k].family == "proportion"
)


def monthly_returns(a: IndicatorArrays, cal: Calendar) -> IndicatorArrays:
    """A weekly indicator as monthly returns: per month (weeks whose Monday falls in it), the sums of
    the numerator and denominator over the weeks that were submitted. A month with any submitted
    week is written; its value is unknown when any of those weeks was. ``expected`` is the
    denominator-weighted mean of the weeks' expected rates (so ``E[y] = expected * n`` still holds),
    ``multiplier`` the ratio of that to the same mean without the injected multipliers."""
    starts = cal.month_first_week
    written = a.status != MISSING
    wn = np.where(written, a.n, 0.0)

    def month_sum(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, starts, axis=1)

    n = month_sum(wn)
    y = month_sum(np.where(written, a.y, 0.0))
    plain = np.maximum(n, 1e-300)
    fallback = cal.month_mean(a.expected)
    expected = np.where(n > 0, month_sum(a.expected * wn) / plain, fallback)
    in_control = np.where(
        n > 0, month_sum(a.expected / a.multiplier * wn) / plain, cal.month_mean(a.expected / a.multiplier)
    )
    status = np.where(month_sum(written.astype(float)) > 0, OBSERVED, MISSING).astype(np.int8)
    status[(status == OBSERVED) & (month_sum((a.status == UNKNOWN).astype(float)) > 0)] = UNKNOWN
    published = np.where(status == OBSERVED, y, np.nan)
    return IndicatorArrays(a.key, "monthly", y, n, expected, expected / in_control, status, published)


# ---------------------------------------------------------------------------------------- tables
def _date(cal: Calendar, week: int) -> dt.date:
    return cal.weeks[week].astype(dt.date)


def _ward_register(spec: TrustSpec, wards: _Wards, reconf: Reconfiguration) -> pl.DataFrame:
    beds = wards.beds.copy()
    beds[reconf.wards] = reconf.new_beds
    width = len(str(int(wards.provider.max()) + 1))
    return pl.DataFrame(
        {
            "ward_id": wards.ids,
            "ward_name": wards.names,
            "provider": [f"Provider {p + 1:0{width}d}" for p in wards.provider],
            "ward_type": wards.ward_type,
            "beds": beds.astype(np.int64),
        }
    )


def _events(
    cal: Calendar,
    wards: _Wards,
    reconf: Reconfiguration,
    manager_changes: np.ndarray,
    episodes: list[Episode],
) -> pl.DataFrame:
    rows: list[tuple[str, dt.date, str, str]] = []
    for w, wk, nb in zip(reconf.wards, reconf.week, reconf.new_beds, strict=True):
        note = f"Ward reconfigured: beds {int(wards.beds[w])} -> {int(nb)}; patient mix changed"
        rows.append((str(wards.ids[w]), _date(cal, int(wk)), "reconfiguration", note))
    ww, tt = np.nonzero(manager_changes > 0)
    for w, t in zip(ww, tt, strict=True):
        k = int(manager_changes[w, t])
        note = "Change of ward manager" if k == 1 else f"{k} changes of ward manager"
        rows.append((str(wards.ids[w]), _date(cal, int(t)), "manager_change", note))
    note = "Incident reporting system migration"
    rows.extend(
        (str(wards.ids[w]), _date(cal, ep.onset), "note", note)
        for ep in episodes
        if ep.kind == "reporting_migration"
        for w in ep.wards
    )
    frame = pl.DataFrame(
        rows,
        schema={"ward_id": pl.String, "date": pl.Date, "kind": pl.String, "note": pl.String},
        orient="row",
    )
    return frame.sort("ward_id", "date", "kind", "note")


def _truth(
    cal: Calendar,
    wards: _Wards,
    episodes: list[Episode],
    expected: dict[str, np.ndarray],
    secl_hours: np.ndarray,
) -> pl.DataFrame:
    """One row per episode and ward. Derived indicators get the ratio of their expected value with
    and without this episode at ``full_effect`` (prone restraint: exactly restraint's multiplier)."""
    order = {k: i for i, k in enumerate(WARD_INDICATORS)}
    rows = []
    for ep in episodes:
        fe = ep.full_effect
        for j, w in enumerate(ep.wards):
            eff: dict[str, object] = {k: float(v[j]) for k, v in ep.effects.items()}
            if "restraint" in eff:
                eff["prone_restraint"] = eff["restraint"]
            if "seclusion" in eff or "long_term_segregation" in eff:
                s_rate = expected["seclusion"][w, fe] * secl_hours[w]
                l_rate = expected["long_term_segregation"][w, fe] * rates.SEGREGATION_WEEK_HOURS
                m_s = float(eff.get("seclusion", 1.0))  # type: ignore[arg-type]
                m_l = float(eff.get("long_term_segregation", 1.0))  # type: ignore[arg-type]
                eff["seclusion_hours"] = round(float((s_rate + l_rate) / (s_rate / m_s + l_rate / m_l)), 3)
            if ep.manager_change.size and ep.manager_change[j] >= 0:
                eff["manager_changes"] = {"add": 1, "date": _date(cal, int(ep.manager_change[j])).isoformat()}
            keys = sorted(eff, key=order.__getitem__)
            rows.append(
                {
                    "group_id": ep.group_id,
                    "ward_id": str(wards.ids[w]),
                    "kind": ep.kind,
                    "onset": _date(cal, ep.onset),
                    "full_effect": _date(cal, fe),
                    "end": None if ep.end is None else _date(cal, ep.end),
                    "indicators": ";".join(keys),
                    "effects": json.dumps({k: eff[k] for k in keys}, separators=(",", ":")),
                }
            )
    schema = {c: t for c, t in TRUTH_SCHEMA.items() if c != "episode_id"}  # the id is added last
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    frame = frame.sort("onset", "group_id", "ward_id")
    ids = pl.Series("episode_id", [f"E{i + 1:04d}" for i in range(frame.height)], dtype=pl.String)
    return frame.insert_column(0, ids)
