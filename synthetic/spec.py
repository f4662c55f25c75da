"""Specification of a synthetic trust: settings dataclasses and the scenario-spec grammar.

Every field has a documented default; :class:`TrustSpec` () is the demo trust (40 wards, 156 weeks,
a handful of closed-culture episodes and decoys).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from types import MappingProxyType

from engine.contract.truth import CULTURE_KINDS as TRUTH_CULTURE_KINDS
from signals import WARD_TYPES

#: Scenario kinds, in the order episodes are planned.
SCENARIO_KINDS: tuple[str, ...] = (
    "closed_culture",
    "concealment",
    "acute_patient",
    "staffing_crisis",
    "winter_pressure",
    "definition_change",
    "reporting_migration",
    "provider_deterioration",
)
#: Kinds that are genuine closed cultures (everything else in ``truth`` is a decoy or a known change).
#: ``provider_deterioration`` is several wards of one provider drifting into closed culture (one truth
#: row per ward, each with its own onset): each of them is an episode to detect.
CULTURE_KINDS: tuple[str, ...] = TRUTH_CULTURE_KINDS  # the truth contract's (engine.contract.truth)

#: The demo trust's scenarios.
DEFAULT_SCENARIOS = (
    "closed_culture=3,concealment=1,acute_patient=2,staffing_crisis=1,"
    "winter_pressure=1,definition_change=1,reporting_migration=1"
)

#: Scenario kinds that happen once per trust whatever its size (not scaled with the ward count).
TRUST_WIDE_KINDS: frozenset[str] = frozenset({"winter_pressure"})


def scaled_default_counts(n_wards: int) -> dict[str, int]:
    """Default scenario counts for a trust of ``n_wards``: the 40-ward defaults scaled by wards / 40.

    Ward-level and provider-level kinds scale with the ward count (rounded half up, and at least 1
    when the default asks for any); trust-wide kinds stay at their default. At 300 wards: 23 closed cultures, 8 concealments, 15 acute patients, 8 staffing crises,
    8 definition changes, 8 reporting migrations and 1 winter.
    """
    base = parse_scenarios(DEFAULT_SCENARIOS)
    factor = max(n_wards, 1) / 40
    return {
        kind: count if kind in TRUST_WIDE_KINDS else max(1, int(count * factor + 0.5)) if count else 0
        for kind, count in base.items()
    }


Range = tuple[float, float]
IntRange = tuple[int, int]


class ScenarioSpecError(ValueError):
    """A scenario spec string does not follow the grammar (message says what is wrong)."""


def parse_scenarios(spec: str) -> dict[str, int]:
    """Parse a scenario spec string into ``{kind: count}``.

    Grammar: ``SPEC := "" | "none" | ITEM ("," ITEM)*``, ``ITEM := KIND "=" COUNT`` with ``KIND`` one
    of :data:`SCENARIO_KINDS` and ``COUNT`` a non-negative integer; whitespace around items is
    ignored, each kind at most once. Example: ``"closed_culture=3,acute_patient=2"``.
    """
    text = spec.strip()
    if text in ("", "none"):
        return {}
    out: dict[str, int] = {}
    for raw in text.split(","):
        item = raw.strip()
        m = re.fullmatch(r"([a-z_]+)\s*=\s*(\d+)", item)
        if not m:
            raise ScenarioSpecError(f"scenario item {item!r} is not KIND=COUNT (e.g. closed_culture=3)")
        kind, count = m.group(1), int(m.group(2))
        if kind not in SCENARIO_KINDS:
            raise ScenarioSpecError(f"unknown scenario kind {kind!r}; known: {', '.join(SCENARIO_KINDS)}")
        if kind in out:
            raise ScenarioSpecError(f"scenario kind {kind!r} given twice")
        out[kind] = count
    return out


def format_scenarios(counts: dict[str, int]) -> str:
    """Inverse of :func:`parse_scenarios` (kinds in canonical order, zero counts dropped)."""
    items = [f"{k}={counts[k]}" for k in SCENARIO_KINDS if counts.get(k, 0) > 0]
    return ",".join(items) if items else "none"


@dataclass(frozen=True)
class MessSettings:
    """Real-world mess; each part switchable. ``MessSettings.none()`` switches everything off."""

    enabled: bool = True  # master switch for everything below except suppression
    single_miss_prob: float = 0.01  # probability a ward misses one weekly (or monthly) submission
    gap_ward_share: float = 0.08  # share of wards with one long gap in submissions
    gap_weeks: IntRange = (4, 16)  # length of a long gap, weeks (inclusive range)
    late_joiner_share: float = 0.10  # share of wards that start submitting late
    late_join_weeks: IntRange = (8, 52)  # first submitted week of a late joiner (inclusive range)
    unknown_prob: float = 0.002  # probability a row is written with an empty (unknown) numerator
    reconfigurations: int = -1  # wards reconfigured (beds and case mix change); -1 = one per 40 wards
    reconfiguration_weeks: IntRange = (30, 120)  # week of the reconfiguration (clipped to the run)
    suppression: bool = False  # public-data mode: counts < 5 written `*`, others rounded to nearest 5

    @classmethod
    def none(cls, suppression: bool = False) -> MessSettings:
        """No mess at all (optionally with suppression)."""
        return cls(enabled=False, suppression=suppression)


@dataclass(frozen=True)
class ClosedCultureSettings:
    """Slow-onset closed culture (and the shared template of ``concealment``)."""

    ramp_weeks: IntRange = (8, 26)  # weeks from onset to full effect (inclusive range)
    rise: Range = (1.3, 2.0)  # multiplier of indicators that rise (a 30-100% rise)
    fall: Range = (0.2, 0.7)  # multiplier of count indicators that fall (a 30-80% fall)
    compliance_fall: Range = (0.6, 0.9)  # multiplier of supervision / training (a 10-40% fall)
    p_staffing: float = 0.85  # probability the staffing domain moves
    p_restrictive: float = 0.85  # probability restrictive practice moves
    p_voice: float = 0.8  # probability voice falls silent
    p_indicator: float = 0.75  # probability each indicator of a moving domain moves (>= 1 per domain)
    p_harm: float = 0.5  # probability injuries / safeguarding each rise (closed_culture only)
    p_incident_drop: float = 0.4  # probability incident reporting falls (closed_culture only)
    p_cetr: float = 0.5  # probability overdue C(E)TRs rise
    p_manager_change: float = 0.5  # probability of one extra manager change during the ramp
    concealed_restraint_fall: Range = (0.4, 0.7)  # concealment: recorded restraint multiplier
    # Designed episodes (robustness grid). ``None`` keeps the probabilistic draw above; when either is
    # set, exactly ``n_domains`` of the four culture domains move (staffing, restrictive practice, harm
    # and reporting, voice and oversight; concealment always includes restrictive practice) with
    # exactly ``n_indicators`` indicators between them (at least one per domain).
    n_domains: int | None = None
    n_indicators: int | None = None
    effect_scale: float = 1.0  # every multiplier m becomes m ** effect_scale (0.5 = half the log-effect)

    def __post_init__(self) -> None:
        if self.n_domains is not None and not 1 <= self.n_domains <= 4:
            raise ValueError("n_domains must be between 1 and 4")
        if self.n_indicators is not None and self.n_indicators < max(1, self.n_domains or 1):
            raise ValueError("n_indicators must be at least n_domains")
        if not 0 < self.effect_scale <= 4:
            raise ValueError("effect_scale must be in (0, 4]")


@dataclass(frozen=True)
class AcutePatientSettings:
    """One very unwell patient: a sharp, short spike in restrictive practice."""

    duration_weeks: IntRange = (2, 6)  # weeks of the spike (step on, step off)
    spike: Range = (2.0, 4.0)  # multiplier of restraint and seclusion
    p_rapid_tranquillisation: float = 0.7  # probability rapid tranquillisation spikes too
    p_injuries: float = 0.5  # probability injuries rise (by a multiplier in ``injury_rise``)
    injury_rise: Range = (1.3, 1.8)


@dataclass(frozen=True)
class StaffingCrisisSettings:
    """A staffing crisis: staffing domain only, then recovery."""

    ramp_weeks: IntRange = (2, 6)
    duration_weeks: IntRange = (8, 26)  # weeks from onset to end (inclusive of the ramp)
    rise: Range = (1.3, 2.0)  # turnover, agency, bank, sickness, vacancies
    compliance_fall: Range = (0.75, 0.95)  # supervision and training


@dataclass(frozen=True)
class WinterPressureSettings:
    """Winter pressure: sickness and agency up across many wards at once."""

    ward_share: float = 0.6  # share of wards affected
    ramp_weeks: int = 4
    duration_weeks: int = 13  # from onset (first Monday of December) to end
    rise: Range = (1.2, 1.6)  # trust-wide multiplier of sickness and agency (drawn once)
    ward_spread: float = 0.1  # sd of the per-ward log multiplier around the trust-wide one


@dataclass(frozen=True)
class DefinitionChangeSettings:
    """A step in one indicator on every ward of one provider at one date (ongoing)."""

    indicators: tuple[str, ...] = (
        "restraint",
        "incidents_reported",
        "safeguarding_referrals",
        "seclusion",
        "injuries",
        "agency_use",
    )
    step_up: Range = (1.3, 1.8)
    step_down: Range = (0.5, 0.75)
    p_up: float = 0.5  # probability the step is upwards


@dataclass(frozen=True)
class ReportingMigrationSettings:
    """Incident reporting drops for about a month across a provider, then recovers."""

    duration_weeks: IntRange = (4, 5)
    drop: Range = (0.3, 0.6)  # multiplier of incidents_reported during the migration


@dataclass(frozen=True)
class ProviderDeteriorationSettings:
    """Several wards of one provider drifting into closed culture with staggered onsets.

    Each affected ward gets its own closed-culture effects and ramp (drawn as for ``closed_culture``
    with :class:`ClosedCultureSettings`); the first ward's onset is drawn as for a ward-level episode
    and the others follow within ``stagger_weeks``. This is not a decoy: every ward is an episode.
    """

    wards: IntRange = (3, 6)  # affected wards of the provider (capped by the provider's free wards)
    ward_share: float | None = None  # if set, round(share x provider wards) (at least 2) instead of ``wards``
    stagger_weeks: IntRange = (0, 20)  # onset of each further ward after the first (inclusive range)

    def __post_init__(self) -> None:
        if not 1 <= self.wards[0] <= self.wards[1]:
            raise ValueError("provider_deterioration wards must be a range of positive integers")
        if self.ward_share is not None and not 0 < self.ward_share <= 1:
            raise ValueError("provider_deterioration ward_share must be in (0, 1]")


@dataclass(frozen=True)
class ScenarioSettings:
    """Which scenarios to inject and how."""

    counts: MappingProxyType[str, int] = field(
        default_factory=lambda: MappingProxyType(parse_scenarios(DEFAULT_SCENARIOS))
    )  # episodes per kind (provider/trust-wide kinds: number of groups)
    min_onset_week: int = 40  # first possible onset, weeks after the ward's first submission
    min_post_weeks: int = 8  # weeks of data required after full effect
    onset_window_weeks: int | None = None  # culture onsets at most this many weeks after the earliest
    ward_type_weight: MappingProxyType[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {
                "acute_adult": 1.0,
                "picu": 1.0,
                "ld_autism": 3.0,
                "forensic": 2.0,
                "camhs": 1.5,
                "older_adult": 1.0,
                "rehab": 1.5,
                "other": 1.0,
            }
        )
    )  # relative chance a ward of each type hosts a ward-level episode
    closed_culture: ClosedCultureSettings = field(default_factory=ClosedCultureSettings)
    acute_patient: AcutePatientSettings = field(default_factory=AcutePatientSettings)
    staffing_crisis: StaffingCrisisSettings = field(default_factory=StaffingCrisisSettings)
    winter_pressure: WinterPressureSettings = field(default_factory=WinterPressureSettings)
    definition_change: DefinitionChangeSettings = field(default_factory=DefinitionChangeSettings)
    reporting_migration: ReportingMigrationSettings = field(default_factory=ReportingMigrationSettings)
    provider_deterioration: ProviderDeteriorationSettings = field(
        default_factory=ProviderDeteriorationSettings
    )

    @classmethod
    def from_spec(cls, spec: str, **kwargs: object) -> ScenarioSettings:
        """Settings with the counts of a scenario spec string (see :func:`parse_scenarios`)."""
        return cls(counts=MappingProxyType(parse_scenarios(spec)), **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TrustSpec:
    """A synthetic trust: size, calendar, wards, mess and scenarios."""

    n_wards: int = 40  # number of wards
    n_weeks: int = 156  # weeks simulated (156 = 3 years)
    start: dt.date = dt.date(2022, 1, 3)  # first week (must be a Monday)
    wards_per_provider: int = 10  # wards are grouped into providers of about this size
    ward_type_mix: MappingProxyType[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {
                "acute_adult": 0.30,
                "picu": 0.08,
                "ld_autism": 0.12,
                "forensic": 0.15,
                "camhs": 0.08,
                "older_adult": 0.15,
                "rehab": 0.10,
                "other": 0.02,
            }
        )
    )  # share of wards of each type (normalised)
    beds: IntRange = (8, 24)  # beds per ward (inclusive range, uniform)
    occupancy: Range = (0.85, 0.99)  # ward mean bed occupancy (uniform)
    occupancy_kappa: float = 300.0  # beta concentration of weekly occupancy around the ward mean
    unsettled_ar: float = 0.7  # week-to-week autocorrelation of the unsettled-ward factor
    staffing_ar: float = 0.95  # week-to-week autocorrelation of the staffing-pressure factor
    dispersion_scale: float = 1.0  # overdispersion x this: NB 1/size and beta-binomial rho (robustness grid)
    rate_scale: float = 1.0  # count base rates x this (robustness grid: rarer or commoner events)
    # "monthly": the weekly workforce returns (staffing-domain proportions: agency and bank shifts) are
    # written as one row per month (sums of the weeks whose Monday falls in it), as trusts whose
    # rostering system only reports monthly send them (robustness grid)
    workforce_cadence: str = "weekly"
    mess: MessSettings = field(default_factory=MessSettings)
    scenarios: ScenarioSettings = field(default_factory=ScenarioSettings)

    def __post_init__(self) -> None:
        if self.start.weekday() != 0:
            raise ValueError(f"start {self.start} is not a Monday")
        if self.n_wards < 1 or self.n_weeks < 1:
            raise ValueError("n_wards and n_weeks must be positive")
        unknown = set(self.ward_type_mix) - set(WARD_TYPES)
        if unknown:
            raise ValueError(f"unknown ward types in ward_type_mix: {sorted(unknown)}")
        if not 1 <= self.beds[0] <= self.beds[1]:
            raise ValueError("beds must be a range of positive integers")
        if self.dispersion_scale <= 0 or self.rate_scale <= 0:
            raise ValueError("dispersion_scale and rate_scale must be positive")
        if self.workforce_cadence not in ("weekly", "monthly"):
            raise ValueError(f"workforce_cadence must be weekly or monthly, got {self.workforce_cadence!r}")
