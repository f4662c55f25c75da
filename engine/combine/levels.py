"""From domain evidence to a ward level and score (see docs/combination.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from engine.contract.levels import LEVEL_NAMES, Level

#: level names indexed by level code (alias of ``engine.contract.LEVEL_NAMES``).
LEVELS: tuple[str, ...] = LEVEL_NAMES
#: level codes of the ``(W, T)`` level arrays (the contract's ranks).
NONE, WATCH, CONCERN, URGENT = (lv.rank for lv in (Level.NONE, Level.WATCH, Level.CONCERN, Level.URGENT))


#: Concern rules: how the culture-domain statistics combine into one constellation strength (nats)
#: that ``watch`` and ``concern`` compare with their thresholds (docs/combination.md).
CONCERN_RULES: tuple[str, ...] = ("balanced", "second", "top_two", "capped_sum", "gated_total")
#: Concern rules whose strength is the ward's culture total (one CUSUM over every culture indicator)
#: rather than a function of the domain statistics alone: they need ``total`` (see constellation_strength).
TOTAL_RULES: tuple[str, ...] = ("gated_total",)


@dataclass(frozen=True)
class LevelThresholds:
    """Thresholds in nats on the domain statistics, and the rule that combines the domains."""

    domain: float  # one domain at or above this: watch (inf: off)
    concern: float  # constellation strength at or above this: concern
    urgent: float  # concern and restrictive practice or harm at or above this: urgent
    watch: float = np.inf  # constellation strength at or above this: watch (the constellation forming)
    rule: str = "second"  # see CONCERN_RULES and constellation_strength
    parameter: float = 1.0  # the rule's parameter (balance, floor, cap or gate; see constellation_strength)


def second_largest(stat: np.ndarray, axis: int = 1) -> np.ndarray:
    """The second-largest value along ``axis`` (the constellation strength of the ``second`` rule)."""
    part = np.partition(stat, -2, axis=axis)
    return np.take(part, -2, axis=axis)


def constellation_strength(
    culture: np.ndarray, rule: str = "second", parameter: float = 1.0, total: np.ndarray | None = None
) -> np.ndarray:
    """``(W, T)`` constellation strength (nats) of ``(W, D, T)`` culture-domain statistics ``D_d``.

    * ``second``: the second-largest ``D_(2)`` (two domains at or above ``h``);
    * ``balanced`` (``parameter`` = balance ``c``, ``1 <= c < 2``): the largest ``h`` with
      ``sum_d min(D_d, c h) >= 2 h``, i.e. two domains' worth of evidence where no domain counts for
      more than ``c h``. In closed form ``min(S / 2, (S - D_(1)) / (2 - c))`` with ``S = sum_d D_d``.
      It equals ``D_(2)`` when only two domains have evidence (``c = 1``), is 0 when only one has,
      and lets mild evidence in a third and fourth domain add to the second;
    * ``top_two`` (``parameter`` = floor ``f`` in nats): ``D_(1) + D_(2)`` where ``D_(2) >= f``, else 0;
    * ``capped_sum`` (``parameter`` = cap ``m`` in nats): ``sum_d min(D_d, m)``;
    * ``gated_total`` (``parameter`` = gate ``g`` in nats; needs ``total``, the ``(W, T)`` culture
      total of :func:`engine.combine.domains.culture_total_blocks`): the total where the second-largest
      domain ``D_(2) >= g``, else 0. One CUSUM over every culture indicator pays for an unmoved domain
      less than the domain split does; the gate keeps the constellation (a single domain, however
      strong, gives 0).
    """
    if rule == "gated_total":
        if total is None:
            raise ValueError("the gated_total rule needs the culture total statistic")
        if total.shape != (culture.shape[0], culture.shape[2]):
            raise ValueError(f"culture total of shape {total.shape} does not match {culture.shape}")
        return np.where(second_largest(culture) >= parameter, total, 0.0)
    if rule == "second":
        return second_largest(culture)
    if rule == "balanced":
        if not 1.0 <= parameter < 2.0:
            raise ValueError("the balanced rule needs 1 <= balance < 2")
        total = culture.sum(axis=1)
        return np.minimum(total / 2.0, (total - culture.max(axis=1)) / (2.0 - parameter))
    if rule == "top_two":
        d2 = second_largest(culture)
        return np.where(d2 >= parameter, culture.max(axis=1) + d2, 0.0)
    if rule == "capped_sum":
        return np.minimum(culture, parameter).sum(axis=1)
    raise ValueError(f"unknown concern rule {rule!r}; expected one of {CONCERN_RULES}")


def named_domains(
    culture: np.ndarray, thresholds: LevelThresholds, total: np.ndarray | None = None
) -> np.ndarray:
    """``(W, D, T)`` bool: the culture domains that carry a ward's constellation, for explanations.

    A domain is named when its own statistic reaches ``thresholds.concern``, or when it belongs to
    the smallest set of strongest domains whose constellation strength (by ``thresholds.rule``)
    reaches ``thresholds.concern``. Under the ``second`` rule this is exactly the domains at or above
    the threshold; under ``balanced`` a concern carried by three domains of 6, 3 and 2.5 nats at a
    5.25-nat threshold names all three. Under ``gated_total`` (``total`` needed) the domains at or
    above the gate carry a concern (at least two, the gate being on the second-largest); the
    indicators behind them are named from their contributions as for every rule. One compiled
    pass, ``O(D^2)`` per ward and period.
    """
    if thresholds.rule not in CONCERN_RULES:
        raise ValueError(f"unknown concern rule {thresholds.rule!r}; expected one of {CONCERN_RULES}")
    if thresholds.rule in TOTAL_RULES:
        strength = constellation_strength(culture, thresholds.rule, thresholds.parameter, total)
        at_concern = (strength >= thresholds.concern)[:, None, :]
        return (culture >= thresholds.concern) | (at_concern & (culture >= thresholds.parameter))
    values = np.ascontiguousarray(culture, dtype=np.float64)
    out = np.empty(values.shape, dtype=np.bool_)
    _named_domains(
        values,
        CONCERN_RULES.index(thresholds.rule),
        float(thresholds.parameter),
        float(thresholds.concern),
        out,
    )
    return out


@njit(cache=True, nogil=True)
def _prefix_strength(ranked: np.ndarray, k: int, rule: int, parameter: float) -> float:
    """:func:`constellation_strength` of the ``k`` largest values ``ranked[:k]`` (descending) and zeros.

    ``rule`` indexes :data:`CONCERN_RULES`: balanced, second, top_two, capped_sum."""
    if rule == 0:  # balanced
        total = 0.0
        for j in range(k):
            total += ranked[j]
        return min(total / 2.0, (total - ranked[0]) / (2.0 - parameter))
    if rule == 1:  # second
        return ranked[1]
    if rule == 2:  # top_two
        return ranked[0] + ranked[1] if ranked[1] >= parameter else 0.0
    total = 0.0  # capped_sum
    for j in range(k):
        total += min(ranked[j], parameter)
    return total


@njit(cache=True, nogil=True)
def _named_domains(
    culture: np.ndarray, rule: int, parameter: float, threshold: float, out: np.ndarray
) -> None:
    d_count = culture.shape[1]
    order = np.empty(d_count, dtype=np.int64)
    ranked = np.empty(d_count)
    for w in range(culture.shape[0]):
        for t in range(culture.shape[2]):
            for d in range(d_count):  # insertion sort, descending (ties keep domain order)
                v = culture[w, d, t]
                j = d - 1
                while j >= 0 and ranked[j] < v:
                    ranked[j + 1] = ranked[j]
                    order[j + 1] = order[j]
                    j -= 1
                ranked[j + 1] = v
                order[j + 1] = d
                out[w, d, t] = v >= threshold
            for k in range(2, d_count + 1):
                if _prefix_strength(ranked, k, rule, parameter) >= threshold:
                    for j in range(k):
                        out[w, order[j], t] = True
                    break


def ward_levels(
    culture: np.ndarray,
    single_alarm: np.ndarray,
    thresholds: LevelThresholds,
    severe_domains: tuple[int, ...] = (0, 1),
    total: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Level codes and scores per ward and week.

    Parameters
    ----------
    culture:
        ``(W, 4, T)`` culture-domain statistics (nats), domains in ``signals.CULTURE_DOMAINS`` order.
    single_alarm:
        ``(W, T)`` bool: single-indicator alarms that raise ``watch`` (all False when indicator
        alerts stay indicator alerts, the default; see ``combination.watch_on_indicator_alerts``).
    severe_domains:
        Indices of the domains whose strong evidence makes a concern urgent (restrictive practice,
        harm and reporting).
    total:
        ``(W, T)`` culture total (one CUSUM over every culture indicator, nats); needed by the
        ``gated_total`` rule only (:func:`engine.combine.domains.culture_total_blocks`).

    Returns
    -------
    level:
        ``(W, T)`` int8 index into :data:`LEVELS`.
    score:
        ``(W, T)`` sum of the culture-domain statistics (nats).
    """
    score = culture.sum(axis=1)
    strength = constellation_strength(culture, thresholds.rule, thresholds.parameter, total)
    watch = (culture >= thresholds.domain).any(axis=1) | single_alarm | (strength >= thresholds.watch)
    concern = strength >= thresholds.concern
    severe = (culture[:, list(severe_domains), :] >= thresholds.urgent).any(axis=1)
    level = np.full(score.shape, NONE, dtype=np.int8)
    level[watch] = WATCH
    level[concern] = CONCERN
    level[concern & severe] = URGENT
    return level, score


def upcrossings(x: np.ndarray, threshold: float) -> np.ndarray:
    """``(W,)`` number of times each row of ``(W, T)`` ``x`` rises from below to at/above ``threshold``.

    A row starting at/above the threshold counts one opening at t = 0.
    """
    above = x >= threshold
    opened = above[:, 1:] & ~above[:, :-1]
    return opened.sum(axis=1) + above[:, 0]
