"""The built-in indicator catalogue and the loader for a trust's own indicators.

Sources for the "why" texts: CQC, *How CQC identifies and responds to closed cultures* (2022); the
Winterbourne View serious case review (2012), Whorlton Hall and Edenfield reviews; NHS England letter on
inpatient quality and safety (2022); see ``../shared/reference/domain.md`` sections 1-2.

A trust adds indicators without code by listing them in its configuration TOML::

    [indicators.police_attendances]
    label = "Police attendances"
    description = "Police called to the ward for an incident involving a patient."
    domain = "harm_and_reporting"
    family = "count"
    exposure = true
    numerator = "police attendances"
    denominator = "occupied bed days"
    scale = 1000
    scale_label = "per 1,000 occupied bed days"
    direction = "up"
    why = "Winterbourne View had 29 police attendances in 40 months."
    questions = ["Why were the police called here, and what happened next?"]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from signals.indicator import CADENCES, DIRECTIONS, DOMAINS, FAMILIES, WARD_TYPES, Indicator

OBD = "occupied bed days"
PER_1000_OBD = "per 1,000 occupied bed days"

_BUILTIN: tuple[Indicator, ...] = (
    # ---------------------------------------------------------------- restrictive practice
    Indicator(
        key="restraint",
        label="Physical restraint",
        description="Physical restraint episodes of patients on the ward.",
        domain="restrictive_practice",
        family="count",
        exposure=True,
        numerator="physical restraints",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="up",
        why=(
            "Rising and routine restraint was the most visible sign at Winterbourne View and Whorlton "
            "Hall; CQC lists restriction without consideration of rights as a closed-culture sign."
        ),
        questions=(
            "Show me restraint this quarter: who, how long, which positions, and what debrief followed?",
            "What has the ward tried instead of restraint for the patients restrained most often?",
        ),
        # restraint incidents per 1,000 bed days: adult acute 2.0 (short stay) to 2.9 (long stay) and
        # PICU 13.4 (HSCIC 2013/14 special feature); LD/autism inpatients ~53 (May 2020, Hatton)
        typical_rate=(("acute_adult", 2.5), ("picu", 13.4), ("ld_autism", 53.0)),
        typical_rate_cv=0.7,
    ),
    Indicator(
        key="prone_restraint",
        label="Prone restraint",
        description="Restraints in which the patient was held face down.",
        domain="restrictive_practice",
        family="count",
        exposure=True,
        numerator="prone restraints",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="up",
        why="Prone restraint carries the highest risk of death and national policy is to eliminate it.",
        questions=("When was prone restraint last used here, for how long, and who reviewed it?",),
    ),
    Indicator(
        key="seclusion",
        label="Seclusion",
        description="Seclusion episodes started on the ward.",
        domain="restrictive_practice",
        family="count",
        exposure=True,
        numerator="seclusion episodes",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="up",
        why="Isolation and long seclusion featured in every inquiry; CQC lists isolation as a sign.",
        questions=("Who has been secluded this month, for how long, and what ended each episode?",),
    ),
    Indicator(
        key="long_term_segregation",
        label="Long-term segregation",
        description="Long-term segregation episodes started on the ward.",
        domain="restrictive_practice",
        family="count",
        exposure=True,
        numerator="segregation episodes started",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="up",
        why="CQC's Out of Sight review found people segregated for months or years, out of view.",
        questions=("Is anyone in long-term segregation now, and what is their plan to come out of it?",),
    ),
    Indicator(
        key="rapid_tranquillisation",
        label="Rapid tranquillisation",
        description="Episodes of medication given by injection to calm a patient quickly.",
        domain="restrictive_practice",
        family="count",
        exposure=True,
        numerator="rapid tranquillisation episodes",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="up",
        why="Chemical restraint rose sharply for autistic people and people with a learning disability.",
        questions=("How often was rapid tranquillisation used this month, and was each use reviewed?",),
    ),
    Indicator(
        key="seclusion_hours",
        label="Hours in seclusion or segregation",
        description="Hours patients spent in seclusion or long-term segregation.",
        domain="restrictive_practice",
        family="measure",
        exposure=True,
        numerator="hours in seclusion or long-term segregation",
        denominator=OBD,
        scale=1000,
        scale_label=f"hours {PER_1000_OBD}",
        direction="up",
        fractional=True,
        why="Long hours out of sight are where closed cultures hide harm (CQC Out of Sight, 2020).",
        questions=("What was the longest seclusion this month, and who reviewed it while it lasted?",),
    ),
    # ---------------------------------------------------------------- harm and reporting
    Indicator(
        key="injuries",
        label="Patient injuries",
        description="Injuries to patients, including unexplained injuries and A&E attendances.",
        domain="harm_and_reporting",
        family="count",
        exposure=True,
        numerator="patient injuries",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="up",
        why="Winterbourne View had 78 A&E attendances in 40 months; unexplained injuries are a CQC sign.",
        questions=("Were any injuries this month unexplained, and how were they investigated?",),
    ),
    Indicator(
        key="sexual_safety_incidents",
        label="Sexual safety incidents",
        description="Sexual safety incidents reported on the ward.",
        domain="harm_and_reporting",
        family="count",
        exposure=True,
        numerator="sexual safety incidents",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="both",
        why=(
            "CQC's Sexual safety on mental health wards found incidents under-recognised and "
            "under-reported: a rise is harm, a silence may be under-reporting."
        ),
        questions=("How would a patient report feeling sexually unsafe here, and to whom?",),
    ),
    Indicator(
        key="incidents_reported",
        label="Incidents reported",
        description="All patient-safety incidents reported from the ward.",
        domain="harm_and_reporting",
        family="count",
        exposure=True,
        numerator="incidents reported",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="both",
        why="High reporters usually have a stronger safety culture; a fall in reporting can mean silence.",
        questions=("Are there gaps in incident reporting, and how quickly are incidents written up?",),
    ),
    Indicator(
        key="safeguarding_referrals",
        label="Safeguarding referrals",
        description="Safeguarding concerns raised about patients on the ward.",
        domain="harm_and_reporting",
        family="count",
        exposure=True,
        numerator="safeguarding referrals",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="both",
        why="At Winterbourne View 40 safeguarding alerts in 40 months were each handled one at a time.",
        questions=("What were the last three safeguarding referrals about, and did any involve staff?",),
    ),
    # ---------------------------------------------------------------- voice and oversight
    Indicator(
        key="complaints",
        label="Complaints and concerns",
        description="Formal complaints and PALS concerns naming the ward.",
        domain="voice_and_oversight",
        family="count",
        exposure=True,
        numerator="complaints and concerns",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="down",
        why="Poor response to complaints is a CQC sign; when complaints stop, voices may have been silenced.",
        questions=(
            "When did a patient or family last complain or raise a concern here, and what changed?",
            "If it has been quiet for months, why do you think that is?",
        ),
    ),
    Indicator(
        key="ftsu_concerns",
        label="Freedom to Speak Up concerns",
        description="Freedom to Speak Up concerns raised about the ward.",
        domain="voice_and_oversight",
        family="count",
        exposure=True,
        numerator="freedom-to-speak-up concerns",
        denominator="staff headcount",
        scale=100,
        scale_label="per 100 staff",
        direction="both",
        why="Whistleblowers were ignored at Winterbourne View; fear of speaking up is a CQC sign.",
        questions=("If a healthcare assistant saw something wrong at 3 a.m., who would they tell?",),
    ),
    Indicator(
        key="family_visits",
        label="Family and carer visits",
        description="Visits to patients by family members or carers.",
        domain="voice_and_oversight",
        family="count",
        exposure=True,
        numerator="family or carer visits",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="down",
        why="Few visitors and families feeling unwelcome are CQC closed-culture signs.",
        questions=("Which patients have had no visitor this month, and do families feel welcome?",),
    ),
    Indicator(
        key="advocacy_visits",
        label="Advocacy visits",
        description="Visits to the ward by independent (IMHA/IMCA) advocates.",
        domain="voice_and_oversight",
        family="count",
        exposure=True,
        numerator="advocate visits",
        denominator=OBD,
        scale=1000,
        scale_label=PER_1000_OBD,
        direction="down",
        why="The Whorlton Hall review called advocacy provision an illusion.",
        questions=("When did an independent advocate last visit, and whom did they see?",),
    ),
    Indicator(
        key="cetr_overdue",
        label="C(E)TR overdue",
        description="Eligible patients whose care (education) and treatment review is overdue.",
        domain="voice_and_oversight",
        family="proportion",
        exposure=True,
        numerator="patients with an overdue C(E)TR",
        denominator="eligible patients",
        scale=100,
        scale_label="%",
        direction="up",
        why="Overdue reviews leave people without external scrutiny (NHS England C(E)TR policy).",
        questions=("Who is overdue a C(E)TR, and when will it happen?",),
    ),
    # ---------------------------------------------------------------- staffing
    Indicator(
        key="staff_turnover",
        label="Staff turnover",
        description="Staff who left the ward in the month out of staff headcount.",
        domain="staffing",
        family="proportion",
        exposure=True,
        numerator="leavers",
        denominator="staff headcount",
        scale=100,
        scale_label="%",
        direction="up",
        cadence="monthly",
        why="High turnover and a staff group that keeps changing are closed-culture risk factors.",
        questions=("How many of the ward's staff have left in the last six months, and why?",),
    ),
    Indicator(
        key="agency_use",
        label="Agency staff",
        description="Shifts worked by agency staff out of all shifts worked.",
        domain="staffing",
        family="proportion",
        exposure=True,
        numerator="agency shifts",
        denominator="all shifts worked",
        scale=100,
        scale_label="%",
        direction="up",
        why="High use of non-permanent staff is a CQC closed-culture risk factor.",
        questions=("What proportion of last week's night shifts were agency staff, and who was in charge?",),
    ),
    Indicator(
        key="bank_use",
        label="Bank staff",
        description="Shifts worked by bank staff out of all shifts worked.",
        domain="staffing",
        family="proportion",
        exposure=True,
        numerator="bank shifts",
        denominator="all shifts worked",
        scale=100,
        scale_label="%",
        direction="up",
        why="Heavy reliance on temporary staff weakens continuity and supervision (CQC).",
        questions=("Do bank staff know the patients' care plans and restraint-reduction plans?",),
    ),
    Indicator(
        key="vacancy_rate",
        label="Vacancies",
        description="Vacant whole-time-equivalent posts out of funded posts.",
        domain="staffing",
        family="proportion",
        exposure=True,
        numerator="vacant WTE",
        denominator="funded WTE",
        scale=100,
        scale_label="%",
        direction="up",
        cadence="monthly",
        fractional=True,
        why="Unsafe staffing was masked by vacancies filled with temporary staff in every inquiry.",
        questions=("Which posts are vacant, for how long, and how are the gaps covered?",),
    ),
    Indicator(
        key="sickness_absence",
        label="Sickness absence",
        description="Contracted hours lost to sickness out of contracted hours.",
        domain="staffing",
        family="proportion",
        exposure=True,
        numerator="hours lost to sickness",
        denominator="contracted hours",
        scale=100,
        scale_label="%",
        direction="up",
        cadence="monthly",
        fractional=True,
        why="Low morale and burnout show in sickness; CQC names low morale as a warning sign.",
        questions=("How are staff coping, and what support is there after difficult incidents?",),
    ),
    Indicator(
        key="supervision_compliance",
        label="Clinical supervision",
        description="Clinical supervisions held out of supervisions due.",
        domain="staffing",
        family="proportion",
        exposure=True,
        numerator="supervisions held",
        denominator="supervisions due",
        scale=100,
        scale_label="%",
        direction="down",
        cadence="monthly",
        why="Failure to provide regular supervision is a CQC closed-culture risk factor.",
        questions=("Is supervision actually happening, and who supervises the night staff?",),
    ),
    Indicator(
        key="training_compliance",
        label="Mandatory training",
        description="Staff in date with required training out of staff required to hold it.",
        domain="staffing",
        family="proportion",
        exposure=True,
        numerator="staff in date",
        denominator="staff required",
        scale=100,
        scale_label="%",
        direction="down",
        cadence="monthly",
        why="Staff lacking skills and training (restraint reduction, autism, safeguarding) is a CQC sign.",
        questions=("Are all staff in date with restraint-reduction and safeguarding training?",),
    ),
    Indicator(
        key="manager_changes",
        label="Changes of ward manager",
        description="Changes of ward manager in the period.",
        domain="staffing",
        family="count",
        exposure=False,
        numerator="changes of ward manager",
        denominator=None,
        scale=1,
        scale_label="changes",
        direction="up",
        why="Weak management and significant changes of manager in a short time are CQC signs.",
        questions=("How many managers has this ward had in the last year?",),
    ),
    # ---------------------------------------------------------------- public MHSDS data (provider level)
    Indicator(
        key="people_restrained",
        label="People restrained",
        description="People subject to a restrictive intervention in the month (MHSDS MHS76).",
        domain="restrictive_practice",
        family="count",
        exposure=True,
        numerator="people subject to restrictive intervention",
        denominator=OBD,
        scale=1000,
        scale_label=f"people {PER_1000_OBD}",
        direction="up",
        cadence="monthly",
        why="The national measure of restrictive practice published by NHS Digital (MHSDS).",
        questions=("How many different people were restrained this month, and is it the same few?",),
        # MHSDS 2021-22, provider level: pooled 4.9 per 1,000 bed days, 10th-90th percentile 2.3-8.3
        # (a log-scale spread of CV ~0.5)
        typical_rate=(("*", 4.9),),
        typical_rate_cv=0.5,
    ),
    Indicator(
        key="people_detained",
        label="People detained",
        description="People detained under the Mental Health Act at the end of the month (context).",
        domain="context",
        family="count",
        exposure=True,
        numerator="people detained at month end",
        denominator=OBD,
        scale=1000,
        scale_label=f"people {PER_1000_OBD}",
        direction="both",
        cadence="monthly",
        why="Context for restrictive practice: detention levels change who is on the ward.",
        questions=("How many patients are detained, and do they all know their rights?",),
    ),
)

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ValueError):
    """A custom indicator definition is invalid (the message names the key and the field)."""


class Catalogue(Mapping[str, Indicator]):
    """An ordered, read-only mapping from indicator key to :class:`Indicator`."""

    def __init__(self, indicators: Iterable[Indicator]):
        self._by_key: dict[str, Indicator] = {}
        for ind in indicators:
            if ind.key in self._by_key:
                raise CatalogueError(f"indicator {ind.key!r} is defined twice")
            _check(ind)
            self._by_key[ind.key] = ind

    def __getitem__(self, key: str) -> Indicator:
        return self._by_key[key]

    def __iter__(self):
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def nearest(self, key: str) -> str | None:
        """The closest known key to a misspelt one, or None when nothing is close."""
        hits = difflib.get_close_matches(key.strip().lower(), list(self._by_key), n=1, cutoff=0.5)
        return hits[0] if hits else None

    def in_domain(self, domain: str) -> list[Indicator]:
        """Indicators of one domain, in catalogue order."""
        return [i for i in self._by_key.values() if i.domain == domain]

    def extended(self, definitions: Mapping[str, Mapping[str, Any]]) -> Catalogue:
        """A new catalogue with a trust's own indicators (``{key: {field: value}}``) added."""
        return Catalogue(
            [*self._by_key.values(), *(indicator_from_mapping(k, v) for k, v in definitions.items())]
        )


def _check(ind: Indicator) -> None:
    where = f"indicator {ind.key!r}"
    if not _KEY_RE.match(ind.key):
        raise CatalogueError(f"{where}: key must be lower-case letters, digits and underscores")
    for name, allowed in (
        ("domain", DOMAINS),
        ("family", FAMILIES),
        ("direction", DIRECTIONS),
        ("cadence", CADENCES),
    ):
        if getattr(ind, name) not in allowed:
            raise CatalogueError(f"{where}: {name} must be one of {', '.join(allowed)}")
    if ind.family == "proportion" and not ind.exposure:
        raise CatalogueError(f"{where}: a proportion needs a denominator (exposure = true)")
    if ind.exposure and not ind.denominator:
        raise CatalogueError(f"{where}: exposure = true needs a denominator description")
    if ind.scale <= 0:
        raise CatalogueError(f"{where}: scale must be positive")
    if not ind.typical_rate_cv > 0:
        raise CatalogueError(f"{where}: typical_rate_cv must be positive")


_REQUIRED_FIELDS = ("label", "description", "domain", "family", "numerator", "direction")


def indicator_from_mapping(key: str, spec: Mapping[str, Any]) -> Indicator:
    """Build an :class:`Indicator` from a configuration table, with clear errors."""
    known = set(Indicator.__dataclass_fields__) - {"key"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise CatalogueError(f"indicator {key!r}: unknown field(s) {', '.join(unknown)}")
    missing = [f for f in _REQUIRED_FIELDS if f not in spec]
    if missing:
        raise CatalogueError(f"indicator {key!r}: missing field(s) {', '.join(missing)}")
    family = spec["family"]
    exposure = bool(spec.get("exposure", family == "proportion"))
    default_scale = 100.0 if family == "proportion" else (1000.0 if exposure else 1.0)
    scale = float(spec.get("scale", default_scale))
    default_label = "%" if scale == 100 and family == "proportion" else ""
    return Indicator(
        key=key,
        label=str(spec["label"]),
        description=str(spec["description"]),
        domain=spec["domain"],
        family=family,
        exposure=exposure,
        numerator=str(spec["numerator"]),
        denominator=spec.get("denominator"),
        scale=scale,
        scale_label=str(spec.get("scale_label", default_label)),
        direction=spec["direction"],
        cadence=spec.get("cadence", "weekly"),
        fractional=bool(spec.get("fractional", family == "measure")),
        why=str(spec.get("why", "")),
        questions=tuple(str(q) for q in spec.get("questions", ())),
        typical_rate=_typical_rate(key, spec.get("typical_rate", {})),
        typical_rate_cv=float(spec.get("typical_rate_cv", 0.7)),
    )


def _typical_rate(key: str, table: Any) -> tuple[tuple[str, float], ...]:
    """``typical_rate`` of a configuration table: ``{ward_type = rate}`` (``"*"`` for every type)."""
    if not isinstance(table, Mapping):
        raise CatalogueError(f"indicator {key!r}: typical_rate must be a table of ward type = rate")
    out = []
    for ward_type, rate in table.items():
        if ward_type != "*" and ward_type not in WARD_TYPES:
            raise CatalogueError(f"indicator {key!r}: typical_rate: unknown ward type {ward_type!r}")
        if not isinstance(rate, int | float) or not rate > 0:
            raise CatalogueError(
                f"indicator {key!r}: typical_rate for {ward_type!r} must be a positive number"
            )
        out.append((str(ward_type), float(rate)))
    return tuple(out)


CATALOGUE = Catalogue(_BUILTIN)

#: The 23 ward indicators every synthetic trust carries (the MHSDS provider measures excluded).
WARD_INDICATORS: tuple[str, ...] = tuple(
    k for k in CATALOGUE if k not in {"people_restrained", "people_detained"}
)
