"""Planning injected episodes (closed cultures and decoys) and applying them as rate multipliers.

An :class:`Episode` changes the expected rate of some indicators on some wards by a multiplier that
ramps up on the log scale from 1 (before ``onset``) to its full value (from ``full_effect`` on) and
returns to 1 after ``end`` (``None`` = ongoing). Weeks are indices into the weekly calendar.

Ward-level kinds (closed_culture, concealment, acute_patient, staffing_crisis) go to distinct wards,
so they never overlap on one ward. Provider-wide (definition_change, reporting_migration) and
trust-wide (winter_pressure) decoys cover many wards at once and may overlap ward-level episodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthetic.rates import CETR_MIN_SHARE
from synthetic.spec import ScenarioSettings

STAFFING_UP: tuple[str, ...] = (
    "staff_turnover",
    "agency_use",
    "bank_use",
    "sickness_absence",
    "vacancy_rate",
)
COMPLIANCE: tuple[str, ...] = ("supervision_compliance", "training_compliance")
RESTRICTIVE: tuple[str, ...] = ("restraint", "seclusion", "long_term_segregation", "rapid_tranquillisation")
VOICE: tuple[str, ...] = ("complaints", "family_visits", "advocacy_visits", "ftsu_concerns")
HARM: tuple[str, ...] = (
    "injuries",
    "sexual_safety_incidents",
    "incidents_reported",
    "safeguarding_referrals",
)
#: Indicators a closed culture may move, by culture domain (designed episodes of the robustness grid).
CULTURE_DOMAIN_KEYS: dict[str, tuple[str, ...]] = {
    "staffing": STAFFING_UP + COMPLIANCE,
    "restrictive_practice": RESTRICTIVE,
    "harm_and_reporting": HARM,
    "voice_and_oversight": (*VOICE, "cetr_overdue"),
}
#: Indicators a closed culture moves downwards (the rest rise).
CULTURE_FALLS: frozenset[str] = frozenset((*VOICE, "incidents_reported"))
WARD_LEVEL_KINDS: tuple[str, ...] = ("closed_culture", "concealment", "acute_patient", "staffing_crisis")
#: Kinds whose change is a permanent step (occupying a ward only around the step itself).
PERSISTENT_STEPS: tuple[str, ...] = ("definition_change", "reconfiguration")


class ScenarioError(ValueError):
    """The requested scenarios do not fit the trust (too few wards or weeks)."""


@dataclass(frozen=True)
class Episode:
    """One injected change on one or more wards with common timing.

    Attributes
    ----------
    group_id:
        Identifier shared by every ward of the episode (``G01``...).
    kind:
        Scenario kind (or ``reconfiguration`` for a known ward reconfiguration).
    wards:
        ``(k,)`` int ward indices.
    onset:
        Week index of the first changed week.
    ramp:
        Weeks from onset to full effect (>= 1); ``full_effect = onset + ramp - 1``.
    end:
        Last affected week index (inclusive), or ``None`` when ongoing.
    effects:
        Indicator -> ``(k,)`` multiplier of the expected rate at full effect, per ward.
    manager_change:
        ``(k,)`` int week index of one extra manager change, ``-1`` for none.
    """

    group_id: str
    kind: str
    wards: np.ndarray
    onset: int
    ramp: int
    end: int | None
    effects: dict[str, np.ndarray]
    manager_change: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def full_effect(self) -> int:
        return self.onset + self.ramp - 1

    def profile(self, n_weeks: int) -> np.ndarray:
        """``(T,)`` share of the full log-effect reached in each week (0 outside the episode)."""
        t = np.arange(n_weeks)
        frac = np.clip((t - self.onset + 1) / self.ramp, 0.0, 1.0)
        if self.end is not None:
            frac[t > self.end] = 0.0
        return frac

    def apply(self, multipliers: dict[str, np.ndarray]) -> None:
        """Multiply the ``(W, T)`` weekly multiplier arrays in place."""
        frac = self.profile(next(iter(multipliers.values())).shape[1])
        active = frac > 0
        for key, m in self.effects.items():
            block = np.exp(frac[None, active] * np.log(m)[:, None])
            multipliers[key][np.ix_(self.wards, np.flatnonzero(active))] *= block


def _uniform(rng: np.random.Generator, rng_range: tuple[float, float]) -> float:
    return round(float(rng.uniform(*rng_range)), 3)


def _scaled(effects: dict[str, float], scale: float) -> dict[str, float]:
    """Multipliers raised to ``scale`` (log-effect times ``scale``), to 3 decimals; unchanged at 1."""
    if scale == 1.0:
        return effects
    return {k: round(float(v) ** scale, 3) for k, v in effects.items()}


def _randint(rng: np.random.Generator, rng_range: tuple[int, int]) -> int:
    return int(rng.integers(rng_range[0], rng_range[1] + 1))


def _subset(rng: np.random.Generator, keys: tuple[str, ...], p: float, at_least: int = 1) -> list[str]:
    """Each key with probability ``p``, topped up at random to ``at_least`` keys (order kept)."""
    chosen = rng.random(len(keys)) < p
    missing = at_least - int(chosen.sum())
    if missing > 0:
        extra = rng.choice(np.flatnonzero(~chosen), size=missing, replace=False)
        chosen[extra] = True
    return [k for k, c in zip(keys, chosen, strict=True) if c]


@dataclass(frozen=True)
class WardFrame:
    """What the planner needs to know about the wards (all ``(W,)`` arrays)."""

    ward_type: np.ndarray  # str
    provider: np.ndarray  # int provider index
    join_week: np.ndarray  # int first submitted week
    excluded: np.ndarray  # bool: not available for ward-level episodes (e.g. reconfigured)
    cetr_share: np.ndarray  # float share of beds with C(E)TR-eligible patients
    busy: np.ndarray  # (W, T) bool: weeks already taken by a change (e.g. a reconfiguration)


class Planner:
    """Draws the episodes of one trust from :class:`ScenarioSettings` (pure, seeded)."""

    def __init__(self, settings: ScenarioSettings, n_weeks: int, weeks: np.ndarray):
        self.settings = settings
        self.n_weeks = n_weeks
        self.weeks = weeks

    # ------------------------------------------------------------------ public
    def plan(self, rng: np.random.Generator, wards: WardFrame) -> list[Episode]:
        s = self.settings
        episodes: list[Episode] = []
        weights = np.array([s.ward_type_weight.get(t, 1.0) for t in wards.ward_type], dtype=float)
        weights[wards.excluded] = 0.0
        # weighted order without replacement (Gumbel-top-k); excluded wards never drawn
        with np.errstate(divide="ignore"):
            keys = np.log(weights) + rng.gumbel(size=weights.size)
        order = [int(i) for i in np.argsort(-keys, kind="stable") if weights[i] > 0]
        busy = wards.busy.copy()
        n_groups = 0
        for kind in WARD_LEVEL_KINDS:
            for _ in range(s.counts.get(kind, 0)):
                n_groups += 1
                episodes.append(self._ward_episode(rng, kind, f"G{n_groups:02d}", order, wards))
                self._mark(busy, episodes[-1])
        # what ward-level episodes (and reconfigurations) occupy: a provider deterioration that finds
        # no provider free of every other change may overlap the provider- and trust-wide decoys
        ward_busy = busy.copy()
        used_winters: set[int] = set()
        for _ in range(s.counts.get("winter_pressure", 0)):
            n_groups += 1
            episodes.append(self._winter(rng, f"G{n_groups:02d}", wards, used_winters, busy))
            self._mark(busy, episodes[-1])
        providers = np.unique(wards.provider)
        for kind in ("definition_change", "reporting_migration"):
            for _ in range(s.counts.get(kind, 0)):
                n_groups += 1
                ep = self._provider_episode(
                    rng, kind, f"G{n_groups:02d}", rng.permutation(providers), wards, busy
                )
                episodes.append(ep)
                self._mark(busy, ep)
        for _ in range(s.counts.get("provider_deterioration", 0)):
            n_groups += 1
            group = self._provider_deterioration(
                rng, f"G{n_groups:02d}", rng.permutation(providers), wards, busy, ward_busy
            )
            for ep in group:
                episodes.append(ep)
                self._mark(busy, ep)
                self._mark(ward_busy, ep)
        return episodes

    def busy_span(self, ep: Episode) -> tuple[int, int]:
        """Weeks ``[lo, hi]`` (inclusive) an episode occupies on its wards: from onset to its end plus
        ``min_post_weeks`` (ongoing episodes: to the last week; persistent steps, i.e. definition
        changes and reconfigurations: onset plus ``min_post_weeks``). No two spans overlap on a ward."""
        post = self.settings.min_post_weeks
        last = self.n_weeks - 1
        if ep.kind in PERSISTENT_STEPS:
            return ep.onset, min(last, ep.full_effect + post)
        if ep.end is None:
            return ep.onset, last
        return ep.onset, min(last, ep.end + post)

    def _mark(self, busy: np.ndarray, ep: Episode) -> None:
        lo, hi = self.busy_span(ep)
        busy[ep.wards, lo : hi + 1] = True

    # ------------------------------------------------------------------ ward-level
    def _ward_episode(
        self, rng: np.random.Generator, kind: str, gid: str, order: list[int], wards: WardFrame
    ) -> Episode:
        s = self.settings
        if kind in ("closed_culture", "concealment"):
            ramp, span = _randint(rng, s.closed_culture.ramp_weeks), None
        elif kind == "acute_patient":
            ramp, span = 1, _randint(rng, s.acute_patient.duration_weeks)
        else:
            c = s.staffing_crisis
            ramp = _randint(rng, c.ramp_weeks)
            span = max(ramp, _randint(rng, c.duration_weeks))
        length = span if span is not None else ramp
        last_onset = self.n_weeks - length - s.min_post_weeks
        for pos, w in enumerate(order):
            earliest = int(wards.join_week[w]) + s.min_onset_week
            latest = self._latest_onset(earliest, last_onset)
            if earliest <= latest:
                del order[pos]
                break
        else:
            raise ScenarioError(
                f"no ward left for a {kind} episode: each needs {s.min_onset_week} weeks of in-control "
                f"data, {length} weeks of change and {s.min_post_weeks} weeks after it "
                f"(have {self.n_weeks} weeks); use fewer episodes, more wards or more weeks"
            )
        onset = int(rng.integers(earliest, latest + 1))
        end = None if span is None else onset + span - 1
        effects, mc = self._ward_effects(rng, kind, ramp, onset, float(wards.cetr_share[w]))
        return Episode(
            gid,
            kind,
            np.array([w]),
            onset,
            ramp,
            end,
            {k: np.array([v]) for k, v in effects.items()},
            np.array([mc]),
        )

    def _latest_onset(self, earliest: int, last_onset: int) -> int:
        """Latest onset allowed: ``last_onset``, or ``earliest + onset_window_weeks`` if sooner."""
        window = self.settings.onset_window_weeks
        return last_onset if window is None else min(last_onset, earliest + window)

    def _ward_effects(
        self, rng: np.random.Generator, kind: str, ramp: int, onset: int, cetr_share: float
    ) -> tuple[dict[str, float], int]:
        s = self.settings
        cc = s.closed_culture
        if kind in ("closed_culture", "concealment") and (
            cc.n_domains is not None or cc.n_indicators is not None
        ):
            return self._designed_effects(rng, kind, ramp, onset, cetr_share)
        eff, manager_change = self._drawn_effects(rng, kind, ramp, onset, cetr_share)
        if kind in ("closed_culture", "concealment"):
            eff = _scaled(eff, cc.effect_scale)
        return eff, manager_change

    def _designed_effects(
        self, rng: np.random.Generator, kind: str, ramp: int, onset: int, cetr_share: float
    ) -> tuple[dict[str, float], int]:
        """Exactly ``n_domains`` culture domains and ``n_indicators`` indicators between them."""
        cc = self.settings.closed_culture
        names = list(CULTURE_DOMAIN_KEYS)
        pool = {
            d: [k for k in keys if k != "cetr_overdue" or cetr_share >= CETR_MIN_SHARE]
            for d, keys in CULTURE_DOMAIN_KEYS.items()
        }
        n_dom = cc.n_domains if cc.n_domains is not None else 3
        forced = ["restrictive_practice"] if kind == "concealment" else []
        others = [d for d in names if d not in forced]
        picked = forced + [others[i] for i in rng.permutation(len(others))[: n_dom - len(forced)]]
        n_ind = cc.n_indicators if cc.n_indicators is not None else 2 * n_dom
        n_ind = min(max(n_ind, n_dom), sum(len(pool[d]) for d in picked))
        chosen = [pool[d][int(rng.integers(len(pool[d])))] for d in picked]  # one per domain
        rest = [k for d in picked for k in pool[d] if k not in chosen]
        chosen += [rest[i] for i in rng.permutation(len(rest))[: n_ind - len(chosen)]]
        eff: dict[str, float] = {}
        for key in chosen:
            if kind == "concealment" and key in RESTRICTIVE:
                eff[key] = _uniform(rng, cc.concealed_restraint_fall)
            elif key in COMPLIANCE:
                eff[key] = _uniform(rng, cc.compliance_fall)
            elif key in CULTURE_FALLS:
                eff[key] = _uniform(rng, cc.fall)
            else:
                eff[key] = _uniform(rng, cc.rise)
        return _scaled(eff, cc.effect_scale), -1

    def _drawn_effects(
        self, rng: np.random.Generator, kind: str, ramp: int, onset: int, cetr_share: float
    ) -> tuple[dict[str, float], int]:
        s = self.settings
        cc = s.closed_culture
        eff: dict[str, float] = {}
        manager_change = -1
        if kind in ("closed_culture", "concealment"):
            domains = rng.random(3) < (cc.p_staffing, cc.p_restrictive, cc.p_voice)
            if kind == "concealment":
                domains[1] = True  # concealment is defined by its restrictive-practice pattern
            while domains.sum() < 2:
                domains[rng.integers(3)] = True
            if domains[0]:
                for key in _subset(rng, STAFFING_UP + COMPLIANCE, cc.p_indicator):
                    eff[key] = _uniform(rng, cc.compliance_fall if key in COMPLIANCE else cc.rise)
                if rng.random() < cc.p_manager_change:
                    manager_change = onset + int(rng.integers(ramp))
            if kind == "closed_culture":
                if domains[1]:
                    for key in _subset(rng, RESTRICTIVE, cc.p_indicator):
                        eff[key] = _uniform(rng, cc.rise)
                for key in ("injuries", "safeguarding_referrals"):
                    if rng.random() < cc.p_harm:
                        eff[key] = _uniform(rng, cc.rise)
                if rng.random() < cc.p_incident_drop:
                    eff["incidents_reported"] = _uniform(rng, cc.fall)
            else:
                eff["restraint"] = _uniform(rng, cc.concealed_restraint_fall)
                for key in ("seclusion", "rapid_tranquillisation"):
                    if rng.random() < 0.5:
                        eff[key] = _uniform(rng, cc.concealed_restraint_fall)
                eff["injuries"] = _uniform(rng, cc.rise)
                eff["safeguarding_referrals"] = _uniform(rng, cc.rise)
                eff["incidents_reported"] = _uniform(rng, cc.fall)
            if domains[2]:
                for key in _subset(rng, VOICE, cc.p_indicator):
                    eff[key] = _uniform(rng, cc.fall)
            if cetr_share >= CETR_MIN_SHARE and rng.random() < cc.p_cetr:
                eff["cetr_overdue"] = _uniform(rng, cc.rise)
        elif kind == "acute_patient":
            ap = s.acute_patient
            eff["restraint"] = _uniform(rng, ap.spike)
            eff["seclusion"] = _uniform(rng, ap.spike)
            if rng.random() < ap.p_rapid_tranquillisation:
                eff["rapid_tranquillisation"] = _uniform(rng, ap.spike)
            if rng.random() < ap.p_injuries:
                eff["injuries"] = _uniform(rng, ap.injury_rise)
        else:  # staffing_crisis
            sc = s.staffing_crisis
            for key in _subset(rng, STAFFING_UP, cc.p_indicator, at_least=2):
                eff[key] = _uniform(rng, sc.rise)
            for key in COMPLIANCE:
                if rng.random() < 0.5:
                    eff[key] = _uniform(rng, sc.compliance_fall)
        return eff, manager_change

    # ------------------------------------------------------------------ many wards
    def _winter(
        self, rng: np.random.Generator, gid: str, wards: WardFrame, used: set[int], busy: np.ndarray
    ) -> Episode:
        s = self.settings
        wp = s.winter_pressure
        latest = self.n_weeks - wp.duration_weeks - s.min_post_weeks
        # week indices of the first Monday on or after 1 December of each year
        dec = (self.weeks.astype("datetime64[M]").astype(np.int64) % 12 == 11) & (
            self.weeks.astype("datetime64[D]") - self.weeks.astype("datetime64[M]").astype("datetime64[D]")
            < np.timedelta64(7, "D")
        )
        candidates = [
            int(i) for i in np.flatnonzero(dec) if s.min_onset_week <= i <= latest and int(i) not in used
        ]
        if not candidates:
            raise ScenarioError(
                "no winter left for a winter_pressure episode: needs a December at least "
                f"{s.min_onset_week} weeks in with {wp.duration_weeks + s.min_post_weeks} weeks after it"
            )
        onset = candidates[int(rng.integers(len(candidates)))]
        used.add(onset)
        # wards with another change in the winter window (plus its post period) are spared
        free = ~busy[:, onset : min(self.n_weeks, onset + wp.duration_weeks + s.min_post_weeks)].any(axis=1)
        hit = np.flatnonzero((rng.random(wards.ward_type.size) < wp.ward_share) & free)
        if hit.size == 0:
            raise ScenarioError("no ward free of other episodes for a winter_pressure episode")
        effects = {}
        for key in ("sickness_absence", "agency_use"):
            base = float(rng.uniform(*wp.rise))
            spread = np.exp(rng.normal(0.0, wp.ward_spread, hit.size))
            effects[key] = np.round(np.maximum(1.05, base * spread), 3)  # pressure never lowers a rate
        return Episode(
            gid,
            "winter_pressure",
            hit,
            onset,
            wp.ramp_weeks,
            onset + wp.duration_weeks - 1,
            effects,
            np.full(hit.size, -1),
        )

    def _provider_deterioration(
        self,
        rng: np.random.Generator,
        gid: str,
        providers: np.ndarray,
        wards: WardFrame,
        busy: np.ndarray,
        ward_busy: np.ndarray,
    ) -> list[Episode]:
        """Closed cultures on several wards of the first provider (in the given order) with enough wards
        free of other episodes from the first onset on; one :class:`Episode` per ward, same ``gid``.

        When no provider has them, a second pass lets the wards overlap provider- and trust-wide decoys
        (``ward_busy``: ward-level episodes only), takes wards once they have ``min_onset_week`` weeks
        of data, and settles for fewer wards (at least the range's lower end, or 2 with ``ward_share``).
        """
        s = self.settings
        pd, cc = s.provider_deterioration, s.closed_culture
        ramp_hi, stagger_hi = cc.ramp_weeks[1], pd.stagger_weeks[1]
        last_first = self.n_weeks - ramp_hi - stagger_hi - s.min_post_weeks
        lower = 2 if pd.ward_share is not None else pd.wards[0]
        for relaxed in (False, True):
            for provider in providers:
                members = np.flatnonzero(wards.provider == provider)
                if pd.ward_share is not None:
                    want = max(2, round(pd.ward_share * members.size))
                else:
                    want = _randint(rng, pd.wards)
                eligible = members[~wards.excluded[members]]
                if relaxed:
                    if eligible.size < lower:
                        continue
                    joined = np.sort(wards.join_week[eligible])[lower - 1]
                    earliest = int(joined) + s.min_onset_week
                else:
                    if eligible.size < min(want, members.size) or eligible.size < 2:
                        continue
                    earliest = int(wards.join_week[eligible].max()) + s.min_onset_week
                latest = self._latest_onset(earliest, last_first)
                if earliest > latest:
                    continue
                first = int(rng.integers(earliest, latest + 1))
                if relaxed:
                    ready = wards.join_week[eligible] + s.min_onset_week <= first
                    free = eligible[ready & ~ward_busy[eligible, first:].any(axis=1)]
                    k = min(want, members.size, free.size)
                    if k < lower:
                        continue
                else:
                    free = eligible[~busy[eligible, first:].any(axis=1)]
                    k = min(want, members.size)
                    if free.size < k:
                        continue
                return self._deteriorating_wards(rng, gid, wards, free, k, first)
        raise ScenarioError(
            "no provider has enough wards free of other episodes for a provider_deterioration episode "
            f"({pd.wards[0]}-{pd.wards[1]} wards, {s.min_onset_week} weeks of in-control data first); "
            "use fewer episodes, more wards or more weeks"
        )

    def _deteriorating_wards(
        self, rng: np.random.Generator, gid: str, wards: WardFrame, free: np.ndarray, k: int, first: int
    ) -> list[Episode]:
        """``k`` of the ``free`` wards with staggered onsets from ``first`` (one episode each)."""
        s = self.settings
        pd, cc = s.provider_deterioration, s.closed_culture
        hit = np.sort(rng.choice(free, size=k, replace=False))
        out = []
        for i, w in enumerate(hit):
            onset = first if i == 0 else first + _randint(rng, pd.stagger_weeks)
            ramp = _randint(rng, cc.ramp_weeks)
            effects, mc = self._ward_effects(rng, "closed_culture", ramp, onset, float(wards.cetr_share[w]))
            out.append(
                Episode(
                    gid,
                    "provider_deterioration",
                    np.array([w]),
                    onset,
                    ramp,
                    None,
                    {key: np.array([v]) for key, v in effects.items()},
                    np.array([mc]),
                )
            )
        return out

    def _provider_episode(
        self,
        rng: np.random.Generator,
        kind: str,
        gid: str,
        providers: np.ndarray,
        wards: WardFrame,
        busy: np.ndarray,
    ) -> Episode:
        """A provider-wide decoy on the first provider (in the given order) with a free window."""
        s = self.settings
        if kind == "definition_change":
            dc = s.definition_change
            key = str(dc.indicators[int(rng.integers(len(dc.indicators)))])
            step = dc.step_up if rng.random() < dc.p_up else dc.step_down
            m = _uniform(rng, step)
            duration = None
            length = 1
        else:
            rm = s.reporting_migration
            key = "incidents_reported"
            m = _uniform(rng, rm.drop)
            duration = _randint(rng, rm.duration_weeks)
            length = duration
        span = length + s.min_post_weeks  # weeks that must be free on every ward of the provider
        for provider in providers:
            hit = np.flatnonzero(wards.provider == provider)
            first = s.min_onset_week + int(wards.join_week[hit].min())
            taken = np.concatenate([[0], np.cumsum(busy[hit].any(axis=0))])
            starts = np.arange(first, self.n_weeks - span + 1)
            ok = starts[taken[starts + span] - taken[starts] == 0]
            if ok.size:
                onset = int(ok[rng.integers(ok.size)])
                break
        else:
            raise ScenarioError(
                f"no provider has {s.min_onset_week} weeks of in-control data followed by {span} weeks "
                f"free of other episodes for a {kind} episode; use fewer episodes or more weeks"
            )
        end = None if duration is None else onset + duration - 1
        return Episode(gid, kind, hit, onset, 1, end, {key: np.full(hit.size, m)}, np.full(hit.size, -1))
