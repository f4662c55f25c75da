"""Base rates, dispersion and latent-factor loadings of the synthetic trust.

All numbers are suggested defaults, loosely calibrated to ``../shared/reference/domain.md`` §2.2 and §6
(confidence [U] unless noted there). They are *expected values*: every multiplicative ingredient of
the generator (ward heterogeneity, seasonality, drift, latent factors) has mean one, so the long-run
mean rate of a ward type equals the table value.

Units
-----
* count indicators with occupied-bed-day exposure: events per 1,000 occupied bed days (OBD);
* ``ftsu_concerns``: concerns per 100 staff (headcount) per week;
* ``manager_changes``: changes per ward per week (no exposure);
* proportions: probability in [0, 1] (e.g. ``agency_use`` = share of shifts worked by agency staff;
  ``staff_turnover`` = leavers in a month / headcount);
* ``seclusion_hours`` is not in the table: it is derived from seclusion and segregation starts times
  the mean durations in :data:`SECLUSION_HOURS`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from signals import WARD_TYPES

_T = WARD_TYPES  # acute_adult, picu, ld_autism, forensic, camhs, older_adult, rehab, other


def _row(*values: float) -> MappingProxyType[str, float]:
    if len(values) != len(_T):
        raise ValueError("one value per ward type expected")
    return MappingProxyType(dict(zip(_T, values, strict=True)))


#: Expected rate per ward type (columns in ``WARD_TYPES`` order:
#: acute_adult, picu, ld_autism, forensic, camhs, older_adult, rehab, other).
BASE_RATES: Final[MappingProxyType[str, MappingProxyType[str, float]]] = MappingProxyType(
    {
        # restrictive practice, per 1,000 OBD. Restraint: acute 2-6, PICU 13-25, LD/autism 30-60,
        # CAMHS 15-30, forensic 5-15, older adult 2-5 (domain.md §6).
        "restraint": _row(4.0, 18.0, 45.0, 9.0, 22.0, 3.5, 2.0, 4.0),
        "seclusion": _row(1.0, 6.0, 8.0, 3.0, 4.0, 0.2, 0.3, 0.8),
        "long_term_segregation": _row(0.05, 0.3, 1.0, 0.4, 0.4, 0.02, 0.05, 0.05),
        # rapid tranquillisation ~10-30% of restraint episodes in acute / PICU (domain.md §6)
        "rapid_tranquillisation": _row(1.0, 4.5, 6.0, 2.0, 3.0, 0.5, 0.3, 1.0),
        # harm and reporting, per 1,000 OBD
        "injuries": _row(3.0, 6.0, 10.0, 4.0, 6.0, 5.0, 1.5, 3.0),
        "sexual_safety_incidents": _row(1.0, 1.5, 1.5, 1.0, 2.0, 0.5, 0.5, 0.8),
        "incidents_reported": _row(40.0, 70.0, 90.0, 35.0, 60.0, 45.0, 20.0, 35.0),
        # Winterbourne View: ~40 in 40 months for 24 beds = 1.4 per 1,000 OBD
        "safeguarding_referrals": _row(1.5, 2.0, 3.0, 1.5, 4.0, 2.5, 1.0, 1.5),
        # voice and oversight. Complaints ~0-3 per ward-month (domain.md §6): zero most weeks.
        "complaints": _row(2.0, 1.5, 1.2, 1.5, 2.0, 1.5, 1.0, 1.5),
        # per 100 staff per week: ~25,000 FTSU cases a year over ~1.4M NHS staff (NGO)
        "ftsu_concerns": _row(0.04, 0.04, 0.05, 0.04, 0.04, 0.04, 0.03, 0.04),
        "family_visits": _row(120.0, 80.0, 100.0, 50.0, 200.0, 200.0, 100.0, 100.0),
        "advocacy_visits": _row(12.0, 20.0, 20.0, 15.0, 15.0, 8.0, 8.0, 10.0),
        "cetr_overdue": _row(0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15),
        # staffing (proportions). Turnover 12-25% a year -> ~1-2% a month; vacancy 10-25%;
        # sickness 4-7%; temporary staffing 10-40% of shifts; training 80-95% (domain.md §6).
        "staff_turnover": _row(0.016, 0.018, 0.020, 0.014, 0.018, 0.013, 0.011, 0.015),
        "agency_use": _row(0.12, 0.18, 0.20, 0.12, 0.18, 0.10, 0.06, 0.10),
        "bank_use": _row(0.15, 0.18, 0.20, 0.12, 0.15, 0.15, 0.10, 0.12),
        "vacancy_rate": _row(0.15, 0.18, 0.20, 0.14, 0.19, 0.12, 0.10, 0.14),
        "sickness_absence": _row(0.055, 0.060, 0.065, 0.055, 0.055, 0.060, 0.045, 0.050),
        "supervision_compliance": _row(0.82, 0.80, 0.78, 0.82, 0.80, 0.84, 0.88, 0.82),
        "training_compliance": _row(0.88, 0.87, 0.85, 0.88, 0.87, 0.89, 0.90, 0.88),
        # changes of ward manager per ward per week (~0.5 a year)
        "manager_changes": _row(0.010, 0.010, 0.012, 0.010, 0.010, 0.010, 0.008, 0.010),
    }
)

#: Prone restraints as a share of restraints (binomial thinning of restraint; domain.md: ~5-15%).
PRONE_SHARE: Final = _row(0.10, 0.12, 0.06, 0.10, 0.08, 0.03, 0.08, 0.08)

#: Share of occupied beds holding a patient eligible for a C(E)TR (learning disability or autism).
CETR_ELIGIBLE_SHARE: Final = _row(0.05, 0.10, 0.95, 0.20, 0.35, 0.02, 0.08, 0.05)
#: Ward types whose share is at least this report ``cetr_overdue`` (other wards: no rows at all).
CETR_MIN_SHARE: Final = 0.2

#: Staff headcount per bed (ward establishment; PICU and LD/autism wards run high ratios).
STAFF_PER_BED: Final = _row(1.9, 3.2, 3.5, 2.6, 3.2, 2.0, 1.3, 2.0)

#: Mean hours per seclusion episode and hours contributed in its first week by a long-term
#: segregation start, per ward type (``seclusion_hours`` = sum of gamma-distributed durations).
SECLUSION_HOURS: Final = _row(10.0, 14.0, 30.0, 24.0, 12.0, 6.0, 10.0, 10.0)
SEGREGATION_WEEK_HOURS: Final = 70.0

#: Negative-binomial size ``k`` of each count *given* its latent mean (variance ``mu + mu^2/k``);
#: ``inf`` = Poisson. Restraint is the most clustered (the same patient restrained repeatedly).
NB_SIZE: Final = MappingProxyType(
    {
        "restraint": 1.5,
        "seclusion": 2.0,
        "long_term_segregation": 3.0,
        "rapid_tranquillisation": 2.0,
        "injuries": 3.0,
        "sexual_safety_incidents": 4.0,
        "incidents_reported": 6.0,
        "safeguarding_referrals": 4.0,
        "complaints": 3.0,
        "ftsu_concerns": 5.0,
        "family_visits": 8.0,
        "advocacy_visits": 5.0,
        "manager_changes": float("inf"),
    }
)

#: Beta-binomial intra-class correlation ``rho`` of each proportion given its latent probability
#: (variance ``n p (1-p) (1 + (n-1) rho)``). ``vacancy_rate`` is drawn on 0.1-WTE units and
#: ``sickness_absence`` on 1-hour units, which is why their rho is small.
BB_RHO: Final = MappingProxyType(
    {
        "cetr_overdue": 0.05,
        "staff_turnover": 0.02,
        "agency_use": 0.04,
        "bank_use": 0.04,
        "vacancy_rate": 0.01,
        "sickness_absence": 0.002,
        "supervision_compliance": 0.05,
        "training_compliance": 0.03,
    }
)

#: Ward-to-ward heterogeneity around the ward-type mean. Counts: coefficient of variation of a
#: mean-one gamma multiplier. Proportions: concentration ``kappa`` of a beta around the type mean
#: (sd = sqrt(p (1-p) / (kappa + 1))).
HETEROGENEITY_CV: Final = MappingProxyType(
    {
        "restraint": 0.5,
        "seclusion": 0.5,
        "long_term_segregation": 0.6,
        "rapid_tranquillisation": 0.5,
        "injuries": 0.4,
        "sexual_safety_incidents": 0.4,
        "incidents_reported": 0.35,
        "safeguarding_referrals": 0.4,
        "complaints": 0.4,
        "ftsu_concerns": 0.4,
        "family_visits": 0.3,
        "advocacy_visits": 0.35,
        "manager_changes": 0.3,
    }
)
HETEROGENEITY_KAPPA: Final = MappingProxyType(
    {
        "cetr_overdue": 40.0,
        "staff_turnover": 200.0,
        "agency_use": 60.0,
        "bank_use": 60.0,
        "vacancy_rate": 60.0,
        "sickness_absence": 300.0,
        "supervision_compliance": 150.0,
        "training_compliance": 250.0,
    }
)

#: Standard deviation per week of the slow log-scale random-walk drift of each ward's rate.
DRIFT_SD: Final = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "restraint",
                "seclusion",
                "long_term_segregation",
                "rapid_tranquillisation",
                "injuries",
                "sexual_safety_incidents",
                "incidents_reported",
                "safeguarding_referrals",
                "complaints",
                "ftsu_concerns",
                "family_visits",
                "advocacy_visits",
                "manager_changes",
                "cetr_overdue",
            ),
            0.008,
        ),
        **dict.fromkeys(
            ("staff_turnover", "agency_use", "bank_use", "vacancy_rate", "sickness_absence"), 0.006
        ),
        **dict.fromkeys(("supervision_compliance", "training_compliance"), 0.002),
    }
)

#: Loadings on the weekly "unsettled ward" factor (AR(1), unit variance): an unsettled week raises
#: restraint, seclusion, rapid tranquillisation and injuries together. Multiplier exp(b u - b^2/2).
UNSETTLED_LOADING: Final = MappingProxyType(
    {
        "restraint": 0.35,
        "seclusion": 0.35,
        "long_term_segregation": 0.15,
        "rapid_tranquillisation": 0.35,
        "injuries": 0.25,
        "sexual_safety_incidents": 0.10,
        "incidents_reported": 0.20,
        "safeguarding_referrals": 0.10,
    }
)

#: Loadings on the slow "staffing pressure" factor (AR(1), unit variance) shared by the staffing
#: indicators of one ward.
STAFFING_LOADING: Final = MappingProxyType(
    {
        "agency_use": 0.15,
        "bank_use": 0.10,
        "vacancy_rate": 0.15,
        "sickness_absence": 0.08,
        "staff_turnover": 0.10,
    }
)

#: Winter seasonality: amplitude of ``1 + a cos(2 pi (doy - 20) / 365.25)`` (peak about 20 January).
WINTER_AMPLITUDE: Final = MappingProxyType({"sickness_absence": 0.25, "agency_use": 0.08, "bank_use": 0.08})

#: Christmas dip: multiplier for weeks (or the month) overlapping 20 December - 2 January.
CHRISTMAS_DIP: Final = MappingProxyType({"family_visits": 0.6, "advocacy_visits": 0.5, "complaints": 0.7})


def nb_size(dispersion_scale: float = 1.0) -> dict[str, float]:
    """NB size ``k`` of each count indicator with its overdispersion ``1 / k`` times the scale."""
    return {k: v / dispersion_scale for k, v in NB_SIZE.items()}


def bb_rho(dispersion_scale: float = 1.0) -> dict[str, float]:
    """Beta-binomial ``rho`` of each proportion times the scale (kept below 0.5)."""
    return {k: min(0.5, v * dispersion_scale) for k, v in BB_RHO.items()}
