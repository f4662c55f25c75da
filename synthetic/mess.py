"""Real-world mess: who submitted when, reconfigurations, unknown values and suppression.

Missing submissions remove rows (missing is never zero); an unknown value keeps the row with an empty
numerator; suppression (public-data mode, as NHS Digital publishes MHSDS restraint counts) writes
counts under 5 as ``*`` and rounds the others to the nearest 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.latent import Calendar
from synthetic.scenarios import Episode
from synthetic.spec import MessSettings

#: Indicators whose case mix a reconfiguration changes, and the sd of the log rate ratio.
_RECONFIG_SD: dict[str, float] = {
    "restraint": 0.3,
    "seclusion": 0.3,
    "long_term_segregation": 0.3,
    "rapid_tranquillisation": 0.3,
    "injuries": 0.25,
    "sexual_safety_incidents": 0.2,
    "incidents_reported": 0.2,
    "safeguarding_referrals": 0.2,
    "complaints": 0.2,
    "family_visits": 0.2,
    "advocacy_visits": 0.2,
    "agency_use": 0.1,
    "bank_use": 0.1,
    "vacancy_rate": 0.1,
}


@dataclass(frozen=True)
class Submissions:
    """Which ward-periods were submitted.

    Attributes
    ----------
    weekly, monthly:
        ``(W, Tw)`` / ``(W, Tm)`` bool: the ward submitted that period.
    join_week:
        ``(W,)`` int: first week the ward submits (0 for wards there from the start).
    """

    weekly: np.ndarray
    monthly: np.ndarray
    join_week: np.ndarray


def plan_submissions(
    rng: np.random.Generator, cal: Calendar, n_wards: int, mess: MessSettings
) -> Submissions:
    """Draw late joiners, single missed submissions and long gaps (all on when ``mess.enabled``)."""
    tw, tm = cal.weeks.size, cal.months.size
    if not mess.enabled:
        return Submissions(np.ones((n_wards, tw), bool), np.ones((n_wards, tm), bool), np.zeros(n_wards, int))
    t = np.arange(tw)
    late = rng.random(n_wards) < mess.late_joiner_share
    join = np.where(late, rng.integers(mess.late_join_weeks[0], mess.late_join_weeks[1] + 1, n_wards), 0)
    join = np.minimum(join, max(tw - 1, 0))
    weekly = t[None, :] >= join[:, None]
    in_gap = np.zeros((n_wards, tw), bool)
    has_gap = rng.random(n_wards) < mess.gap_ward_share
    g_len = rng.integers(mess.gap_weeks[0], mess.gap_weeks[1] + 1, n_wards)
    g_start = join + (rng.random(n_wards) * np.maximum(tw - join - g_len, 1)).astype(int)
    in_gap |= has_gap[:, None] & (t[None, :] >= g_start[:, None]) & (t[None, :] < (g_start + g_len)[:, None])
    weekly &= ~in_gap
    weekly &= rng.random((n_wards, tw)) >= mess.single_miss_prob
    # months: from the month of the join week; missing when most of the month's weeks are in a gap,
    # or by a single missed monthly return
    month = np.arange(tm)
    monthly = month[None, :] >= cal.week_month[join][:, None]
    monthly &= cal.month_mean(in_gap.astype(float)) <= 0.5
    monthly &= rng.random((n_wards, tm)) >= mess.single_miss_prob
    return Submissions(weekly, monthly, join)


@dataclass(frozen=True)
class Reconfiguration:
    """Ward reconfigurations: beds and case mix change from ``week`` on (announced in events)."""

    wards: np.ndarray  # (r,) ward indices
    week: np.ndarray  # (r,) week index of the change
    new_beds: np.ndarray  # (r,) beds after the change
    episodes: list[Episode]  # one ``reconfiguration`` episode per ward (rate ratios)


def plan_reconfigurations(
    rng: np.random.Generator,
    mess: MessSettings,
    n_weeks: int,
    beds: np.ndarray,
    join_week: np.ndarray,
    bed_range: tuple[int, int],
) -> Reconfiguration:
    """Choose wards to reconfigure (beds +-4..8 within ``bed_range``; case-mix rate ratios drawn)."""
    n = beds.size
    count = (max(1, n // 40) if mess.reconfigurations < 0 else mess.reconfigurations) if mess.enabled else 0
    lo = min(mess.reconfiguration_weeks[0], n_weeks - 1)
    hi = min(mess.reconfiguration_weeks[1], n_weeks - 1)
    week_all = rng.integers(lo, hi + 1, n)
    eligible = np.flatnonzero(join_week + 8 <= week_all)
    count = min(count, eligible.size)
    chosen = np.sort(rng.choice(eligible, size=count, replace=False)) if count else np.zeros(0, int)
    week = week_all[chosen]
    change = rng.integers(4, 9, count) * np.where(rng.random(count) < 0.5, -1, 1)
    new = beds[chosen] + change
    new = np.where((new < bed_range[0]) | (new > bed_range[1]), beds[chosen] - change, new)
    new = np.clip(new, bed_range[0], bed_range[1])
    episodes = []
    for i, (w, wk) in enumerate(zip(chosen, week, strict=True)):
        effects = {
            k: np.array([round(float(np.exp(rng.normal(0.0, sd))), 3)]) for k, sd in _RECONFIG_SD.items()
        }
        episodes.append(
            Episode(
                f"R{i + 1:02d}",
                "reconfiguration",
                np.array([w]),
                int(wk),
                1,
                None,
                effects,
                np.array([-1]),
            )
        )
    return Reconfiguration(chosen, week, new, episodes)


def suppress(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Public-data mode for counts: ``(published, suppressed)``.

    Counts below 5 (including 0) are suppressed (published ``*``: value NaN, flag True); the others
    are rounded to the nearest multiple of 5 (halves round up, as ``floor(x / 5 + 1/2) * 5``).
    """
    small = values < 5
    published = np.where(small, np.nan, np.floor(values / 5.0 + 0.5) * 5.0)
    return published, small & ~np.isnan(values)
