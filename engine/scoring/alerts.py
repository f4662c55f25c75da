"""Alerts (ward, indicator and provider scope) with plain-English explanations.

* **Ward alerts** open when a ward reaches ``concern`` and carry on while it stays at ``concern`` or
  ``urgent`` (closing after ``close_after`` periods below).
* **Indicator alerts** open when an indicator's own detector fires (CUSUM or EWMA, silence, data
  silence) and carry on while the condition holds.
* **Provider alerts** report once a change seen across most wards of a provider at the same time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from engine.alerting import alert_episodes, stable_alert_id
from engine.combine.levels import CONCERN, constellation_strength, named_domains
from engine.combine.provider import broad_shifts, group_index, pooled_moments, wards_at_level
from engine.combine.rowgroups import group_rows
from engine.contract.levels import LEVEL_NAMES
from engine.contract.results import ALERT_COLUMNS as ALERT_COLUMNS  # kept importable from here
from engine.contract.results import ALERT_FILE_SCHEMA
from engine.explain import (
    IndicatorEvidence,
    describe,
    provider_deterioration_explanation,
    provider_explanation,
    ward_explanation,
)
from engine.panel import distinct_keys
from engine.scoring.evidence_spans import span_rates
from engine.scoring.indicators import SeriesScores
from engine.scoring.settings import CombinationSettings
from engine.scoring.wards import WardEvidence, level_thresholds
from signals import CULTURE_DOMAINS, Catalogue


# Alerts repeat the same few hundred period dates tens of thousands of times: convert each once.
@cache
def _date(day: np.datetime64) -> dt.date:
    return day.astype("datetime64[D]").astype(dt.date)


@cache
def _iso(day: np.datetime64 | None) -> str:
    return "" if day is None else str(np.datetime64(day, "D"))  # type: ignore[call-overload]  # stubs: no (datetime64, unit)


@dataclass(frozen=True)
class Context:
    """What alert building needs besides the scores."""

    catalogue: Catalogue
    settings: CombinationSettings
    provider: dict[str, str]


def evidence_items(
    sc: SeriesScores, series: np.ndarray, period: np.ndarray, direction: list[str]
) -> list[IndicatorEvidence | None]:
    """The explanation numbers of each series at its period for a change in ``direction``.

    Data silence, then zero-run silence, explain an alarm first; otherwise the rate since the CUSUM's
    onset estimate, when it moved in ``direction`` (rates of all spans in one compiled pass).
    """
    series = np.asarray(series, dtype=np.int64)
    period = np.asarray(period, dtype=np.int64)
    up = np.array([d == "up" for d in direction], dtype=bool)
    dsil = sc.data_silence_alarm[series, period]
    run = sc.silence_run[series, period]
    sil = sc.silence_alarm[series, period] | (~up & (run >= 4) & (sc.silence_prob[series, period] < 0.05))
    onset = np.where(up, sc.onset_up[series, period], sc.onset_down[series, period])
    shift = ~dsil & ~sil & (onset >= 0)
    count, observed, expected = span_rates(
        sc.panel.y, sc.panel.n, sc.expected_rate, sc.panel.status,
        series[shift], onset[shift], period[shift],
    )  # fmt: skip
    # per-item values as Python lists: the loop below only builds the explanation objects
    rates = dict(
        zip(
            np.flatnonzero(shift).tolist(),
            zip(count.tolist(), observed.tolist(), expected.tolist(), strict=True),
            strict=True,
        )
    )
    cadence = sc.panel.cadence
    keys = sc.panel.indicator[series].astype(str).tolist()
    dsil_run = sc.data_silence_run[series, period].tolist()
    dsil_expected = _peer_silence_expected(sc, series, period).tolist()
    sil_expected = sc.silence_expected[series, period].tolist()
    onset_day = [_date(d) for d in sc.panel.periods[np.where(shift, onset, 0)]]
    peer = (
        np.zeros(len(series), dtype=bool) if sc.peer_based is None else sc.peer_based[series, period]
    ).tolist()
    out: list[IndicatorEvidence | None] = []
    for i, (key, is_dsil, is_sil, is_shift, is_up, run_i) in enumerate(
        zip(keys, dsil.tolist(), sil.tolist(), shift.tolist(), up.tolist(), run.tolist(), strict=True)
    ):
        if is_dsil:
            out.append(
                IndicatorEvidence(
                    key, "data_silence", "down", int(dsil_run[i]), cadence, expected_count=dsil_expected[i]
                )
            )
        elif is_sil:
            out.append(
                IndicatorEvidence(
                    key, "silence", "down", int(run_i), cadence, expected_count=float(sil_expected[i])
                )
            )
        elif not is_shift:
            out.append(None)
        else:
            m, obs, exp = rates[i]
            if m == 0 or is_up != (obs > exp):
                out.append(None)
                continue
            out.append(
                IndicatorEvidence(
                    key, "shift", "up" if is_up else "down", int(m), cadence,
                    observed_rate=float(obs), expected_rate=float(exp), onset=onset_day[i],
                    peer_based=bool(peer[i]),
                )
            )  # fmt: skip
    return out


def _peer_silence_expected(sc: SeriesScores, series: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Events expected over a silent run at the series' (peer-shrunk) rate; NaN where not judged so."""
    out = np.full(series.size, np.nan)
    peer = sc.peer_silence
    if peer is None or sc.peer_silence_rows is None or not series.size:
        return out
    pos = np.full(sc.panel.shape[0], -1, dtype=np.int64)
    pos[sc.peer_silence_rows] = np.arange(sc.peer_silence_rows.size)
    rows = pos[series]
    ok = rows >= 0
    ok[ok] = peer.alarm[rows[ok], period[ok]] | (peer.run_length[rows[ok], period[ok]] > 0)
    out[ok] = peer.expected_count[rows[ok], period[ok]]
    return np.where(out > 0, out, np.nan)


def _peer_silence_probability(
    sc: SeriesScores, row: np.ndarray, start: np.ndarray, last: np.ndarray
) -> np.ndarray:
    """Probability of the silent run at ``last`` where the peer-silence detector alarmed at ``start``."""
    out = np.full(np.shape(row), np.nan)
    peer = sc.peer_silence
    if peer is None or sc.peer_silence_rows is None or not np.size(row):
        return out
    pos = np.full(sc.panel.shape[0], -1, dtype=np.int64)
    pos[sc.peer_silence_rows] = np.arange(sc.peer_silence_rows.size)
    rows = pos[np.asarray(row, dtype=np.int64)]
    ok = rows >= 0
    ok[ok] = peer.alarm[rows[ok], np.asarray(start)[ok]]
    out[ok] = np.exp(peer.log_probability[rows[ok], np.asarray(last)[ok]])
    return out


def _series_at(ev: WardEvidence, cadence: str, t_grid: int) -> int:
    return int(ev.grid_to_series_period[cadence][t_grid])


WardRows = dict[str, tuple[np.ndarray, np.ndarray]]


def ward_rows(ev: WardEvidence) -> WardRows:
    """Per cadence, the CSR index (:func:`group_rows`) of each ward's series."""
    return {cad: group_rows(ward, len(ev.ward_id)) for cad, ward in ev.series_ward.items()}


def _rows_of(index: WardRows, cadence: str, w: int) -> np.ndarray:
    """Ascending series rows of ward ``w`` in ``cadence``."""
    order, start = index[cadence]
    return order[start[w] : start[w + 1]]


def ward_contributors(
    ev: WardEvidence,
    parts: dict[str, SeriesScores],
    w: int,
    t: int,
    domains: list[str],
    index: WardRows,
) -> list[tuple[float, str, int, int]]:
    """``(strength, cadence, series, series_period)`` of the ward's contributing series, strongest first
    (``index`` from :func:`ward_rows`)."""
    out = []
    for cadence, sc in parts.items():
        rows = _rows_of(index, cadence, w)
        ts = _series_at(ev, cadence, t)
        if ts < 0:
            continue
        for s in rows:
            contrib = float(ev.contribution[cadence][s, t])
            in_domain = sc.domain[s] in domains
            alarm = bool(sc.indicator_alarm[s, ts])
            if (in_domain and contrib > 0) or alarm:
                out.append((contrib + (100.0 if alarm else 0.0), cadence, int(s), ts))
    out.sort(key=lambda r: -r[0])
    return out


def evidence_domains(
    ev: WardEvidence,
    parts: dict[str, SeriesScores],
    settings: CombinationSettings,
    w: int,
    t: int,
    index: WardRows,
) -> list[str]:
    """Culture domains with evidence at (w, t), plus ``data_silence`` when the ward's data fell silent."""
    named = named_domains(
        ev.domain_stat[w : w + 1, :, t : t + 1],
        level_thresholds(settings),
        ev.culture_total[w : w + 1, t : t + 1],
    )[0, :, 0]
    out = [d for i, d in enumerate(CULTURE_DOMAINS) if named[i]]
    for cadence, sc in parts.items():
        ts = _series_at(ev, cadence, t)
        if ts < 0:
            continue
        rows = _rows_of(index, cadence, w)
        rows = rows[sc.indicator_alarm[rows, ts]]
        out += [
            str(sc.domain[s]) for s in rows if sc.domain[s] in CULTURE_DOMAINS and sc.domain[s] not in out
        ]
    if ev.data_silence[w, t]:
        out.append("data_silence")
    return out


def ward_alerts(
    ev: WardEvidence, parts: dict[str, SeriesScores], ctx: Context
) -> tuple[list[dict], np.ndarray]:
    """Ward-scope alerts and the ``(W, T)`` id of the open ward alert (empty string when none)."""
    cond = ev.level >= CONCERN
    episodes = alert_episodes(cond, ctx.settings.close_after)
    open_id = np.full(cond.shape, "", dtype=object)
    rows = []
    # the constellation at each alert's last week (its statistic) and the domains carrying it at opening
    thresholds = level_thresholds(ctx.settings)
    ep_rows = np.asarray(episodes.row, dtype=np.int64)
    last_t = np.asarray(episodes.last_seen, dtype=np.int64)
    start_t = np.asarray(episodes.start, dtype=np.int64)
    at_last = ev.domain_stat[ep_rows, :, last_t][:, :, None]
    total_last = ev.culture_total[ep_rows, last_t][:, None]
    strength = constellation_strength(at_last, thresholds.rule, thresholds.parameter, total_last)[:, 0]
    at_start = ev.domain_stat[ep_rows, :, start_t][:, :, None]
    named = named_domains(at_start, thresholds, ev.culture_total[ep_rows, start_t][:, None])[:, :, 0]
    index = ward_rows(ev)
    domains_of, contributors_of = [], []
    for w, last in zip(episodes.row.tolist(), episodes.last_seen.tolist(), strict=True):
        domains_of.append(evidence_domains(ev, parts, ctx.settings, w, last, index))
        contributors_of.append(ward_contributors(ev, parts, w, last, domains_of[-1], index))
    items = _contributor_evidence(parts, contributors_of)
    for e, (w, s, last, closed, domains, contributors) in enumerate(
        zip(
            episodes.row,
            episodes.start,
            episodes.last_seen,
            episodes.closed,
            domains_of,
            contributors_of,
            strict=True,
        )
    ):
        ward_id = str(ev.ward_id[w])
        opened = ev.periods[s]
        alert_id = stable_alert_id(ward_id, "ward", "", "combined", _iso(opened))
        open_id[w][episodes.opened[w] == s] = alert_id
        strong = [i for i in range(len(CULTURE_DOMAINS)) if named[e, i]]
        since_idx = min((int(ev.domain_since[w, i, s]) + 1 for i in strong), default=int(s))
        onset = ev.periods[min(max(since_idx, 0), len(ev.periods) - 1)]
        found = [items[(cadence, si, ts)] for _, cadence, si, ts in contributors]
        evidence = [item for item in found if item is not None]
        keys = [str(parts[cadence].panel.indicator[si]) for _, cadence, si, _ in contributors]
        level = LEVEL_NAMES[int(ev.level[w, s : last + 1].max())]
        text = ward_explanation(
            level, domains, _date(onset), evidence, ctx.settings.max_explained_indicators, ctx.catalogue
        )
        questions = []
        for k in keys[:4]:
            questions += [q for q in ctx.catalogue[k].questions[:1] if q not in questions]
        rows.append(
            {
                "alert_id": alert_id,
                "ward_id": ward_id,
                "scope": "ward",
                "indicator": "",
                "method": "combined",
                "level": level,
                "direction": "up",
                "opened": _iso(opened),
                "onset_estimate": _iso(onset),
                "last_seen": _iso(ev.periods[last]),
                "closed": "" if closed < 0 else _iso(ev.periods[closed]),
                "statistic": float(strength[e]),
                "threshold": ctx.settings.concern_threshold,
                "explanation": text,
                "provider": ctx.provider.get(ward_id, ""),
                "contributing": ";".join(dict.fromkeys(keys)),
                "questions": " | ".join(questions),
            }
        )
    return rows, open_id


def _contributor_evidence(
    parts: dict[str, SeriesScores], contributors: list[list[tuple[float, str, int, int]]]
) -> dict[tuple[str, int, int], IndicatorEvidence | None]:
    """Evidence of every contributing series of every ward alert, keyed by (cadence, series, period),
    computed in one batch per cadence (each series in its closure direction)."""
    wanted: dict[str, set[tuple[int, int]]] = {cad: set() for cad in parts}
    for found in contributors:
        for _, cadence, si, ts in found:
            wanted[cadence].add((si, ts))
    out: dict[tuple[str, int, int], IndicatorEvidence | None] = {}
    for cadence, cells in wanted.items():
        sc = parts[cadence]
        cells_sorted = sorted(cells)
        series = np.array([c[0] for c in cells_sorted], dtype=np.int64)
        period = np.array([c[1] for c in cells_sorted], dtype=np.int64)
        items = evidence_items(sc, series, period, [str(sc.closure[i]) for i in series.tolist()])
        out.update(((cadence, a, b), item) for (a, b), item in zip(cells_sorted, items, strict=True))
    return out


#: Indicator-alert methods, in the order that explains an alarm first (data silence, zero-run
#: silence, then the indicator's own chart).
_METHODS: tuple[str, ...] = ("data_silence", "silence", "ewma", "cusum")


@dataclass(frozen=True)
class _AlertNumbers:
    """Per episode: method (index into ``_METHODS``), direction, statistic, threshold and onset period."""

    method: np.ndarray
    up: np.ndarray
    statistic: np.ndarray
    threshold: np.ndarray
    onset: np.ndarray


def _alert_numbers(
    sc: SeriesScores,
    row: np.ndarray,
    start: np.ndarray,
    last: np.ndarray,
    ewma_rows: np.ndarray,
    ctx: Context,
) -> _AlertNumbers:
    """What explains each episode at its opening ``start`` and its statistic at ``last``, all at once.

    Data silence, then zero-run silence, explain an alarm first; otherwise the series' own chart
    (EWMA for ``ewma_rows``, else the side of the CUSUM that signalled). The onset is the CUSUM's
    estimate, the start of the silent run, or the opening period (EWMA), within the panel's periods.
    """
    dsil = sc.data_silence_alarm[row, start]
    sil = ~dsil & sc.silence_alarm[row, start]
    ewma = ~dsil & ~sil & ewma_rows[row]
    method = np.select([dsil, sil, ewma], [0, 1, 2], default=3)
    up = np.where(ewma, sc.ewma[row, start] > 0, ~dsil & ~sil & sc.alarm_up[row, start])
    statistic = np.select(
        [dsil, sil, ewma],
        [sc.data_silence_run[row, last].astype(float), sc.silence_prob[row, last], sc.ewma[row, last]],
        default=np.where(up, sc.cusum_up[row, last], sc.cusum_down[row, last]),
    )
    threshold = np.select(
        [dsil, sil, ewma],
        [float(ctx.settings.data_silence_min_run), ctx.settings.silence_level, sc.ewma_limit[row, last]],
        default=sc.threshold[row],
    )
    # silence judged against the peers: its statistic is the run's probability, against its level
    peer_p = _peer_silence_probability(sc, row, start, last)
    peer = dsil & np.isfinite(peer_p)
    if peer.any():
        statistic = np.where(peer, peer_p, statistic)
        threshold = np.where(peer, sc.peer_silence.level, threshold)  # type: ignore[union-attr]
    onset = np.select(
        [dsil, sil, ewma],
        [start - sc.data_silence_run[row, start] + 1, start - sc.silence_run[row, start] + 1, start],
        default=np.where(up, sc.onset_up[row, start], sc.onset_down[row, start]),
    )
    return _AlertNumbers(method, up, statistic, threshold, np.clip(onset, 0, len(sc.panel.periods) - 1))


def indicator_alerts(parts: dict[str, SeriesScores], ctx: Context, ewma_indicators: set[str]) -> list[dict]:
    """Indicator-scope alerts for every series whose own detector fired."""
    rows = []
    for sc in parts.values():
        episodes = alert_episodes(sc.indicator_alarm, ctx.settings.close_after)
        ewma_rows = np.isin(sc.panel.indicator.astype(str), list(ewma_indicators))
        num = _alert_numbers(sc, episodes.row, episodes.start, episodes.last_seen, ewma_rows, ctx)
        direction = np.where(num.up, "up", "down").tolist()
        items = evidence_items(sc, episodes.row, episodes.last_seen, direction)
        iso = [_iso(p) for p in sc.panel.periods]
        keys = sc.panel.indicator[episodes.row].astype(str).tolist()
        questions = {k: " | ".join(ctx.catalogue[k].questions) for k in set(keys)}
        for key, ward_id, start, last, closed, method, side, onset, statistic, threshold, item in zip(
            keys,
            sc.panel.ward_id[episodes.row].astype(str).tolist(),
            episodes.start.tolist(),
            episodes.last_seen.tolist(),
            episodes.closed.tolist(),
            [_METHODS[m] for m in num.method.tolist()],
            direction,
            num.onset.tolist(),
            num.statistic.tolist(),
            num.threshold.tolist(),
            items,
            strict=True,
        ):
            text = (
                describe(item, ctx.catalogue)
                if item is not None
                else f"{ctx.catalogue[key].label}: its detector signalled."
            )
            rows.append(
                {
                    "alert_id": stable_alert_id(ward_id, "indicator", key, method, iso[start]),
                    "ward_id": ward_id,
                    "scope": "indicator",
                    "indicator": key,
                    "method": method,
                    "level": "watch",
                    "direction": side,
                    "opened": iso[start],
                    "onset_estimate": iso[onset],
                    "last_seen": iso[last],
                    "closed": "" if closed < 0 else iso[closed],
                    "statistic": statistic,
                    "threshold": threshold,
                    "explanation": text,
                    "provider": ctx.provider.get(ward_id, ""),
                    "contributing": key,
                    "questions": questions[key],
                }
            )
    return rows


def provider_alerts(parts: dict[str, SeriesScores], ctx: Context) -> list[dict]:
    """One alert per provider-wide shift: a standardised CUSUM of pooled counts against pooled baselines."""
    rows = []
    h, k = ctx.settings.provider_threshold, 0.5
    for sc in parts.values():
        wards, of_ward = distinct_keys(sc.panel.ward_id)
        prov = np.array([ctx.provider.get(w, w) for w in wards])[of_ward]
        codes, n_groups = group_index(prov, sc.panel.indicator)
        panel = sc.panel
        observed = panel.observed
        pooled_y, pooled_mu, pooled_var, n_wards = pooled_moments(
            panel.y, observed, panel.n, sc.baseline_rate, sc.dispersion, sc.family, codes, n_groups
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            zs = np.where(
                (pooled_var > 0) & (n_wards >= ctx.settings.provider_min_wards),
                (pooled_y - pooled_mu) / np.sqrt(pooled_var),
                0.0,
            )
        first_row = np.zeros(n_groups, dtype=np.int64)
        first_row[codes] = np.arange(len(codes))
        order, bounds = group_rows(codes, n_groups)
        for direction, sign in (("up", 1.0), ("down", -1.0)):
            stat = np.zeros_like(zs)
            cur = np.zeros(n_groups)
            for t in range(zs.shape[1]):
                cur = np.maximum(0.0, cur + sign * zs[:, t] - k)
                stat[:, t] = cur
            episodes = alert_episodes(stat > h, ctx.settings.close_after)
            watched = np.array(
                [ctx.catalogue[str(panel.indicator[first_row[g]])].domain != "context" for g in episodes.row],
                dtype=bool,
            )
            broad = np.zeros(len(watched), dtype=bool)
            broad[watched] = broad_shifts(
                panel.y, observed, panel.n, sc.baseline_rate, sc.dispersion, sc.family, (order, bounds),
                episodes.row[watched], episodes.start[watched], sign, ctx.settings.close_after,
                ctx.settings.provider_min_wards, ctx.settings.provider_share, ctx.settings.provider_min_ratio,
            )  # fmt: skip
            for g, start, last, closed in zip(
                episodes.row[broad], episodes.start[broad], episodes.last_seen[broad], episodes.closed[broad],
                strict=True,
            ):  # fmt: skip
                r = first_row[g]
                key, provider = str(sc.panel.indicator[r]), str(prov[r])
                opened = sc.panel.periods[start]
                rows.append(
                    {
                        "alert_id": stable_alert_id(provider, "provider", key, "cusum", _iso(opened)),
                        "ward_id": "",
                        "scope": "provider",
                        "indicator": key,
                        "method": "cusum",
                        "level": "watch",
                        "direction": direction,
                        "opened": _iso(opened),
                        "onset_estimate": _iso(opened),
                        "last_seen": _iso(sc.panel.periods[last]),
                        "closed": "" if closed < 0 else _iso(sc.panel.periods[closed]),
                        "statistic": float(stat[g, last]),
                        "threshold": h,
                        "explanation": provider_explanation(
                            provider, key, direction, int(n_wards[g, last]), _date(opened)
                        ),
                        "provider": provider,
                        "contributing": key,
                        "questions": "",
                    }
                )
    return rows


def provider_concern_alerts(ev: WardEvidence, ctx: Context) -> list[dict]:
    """One provider alert (level concern) while at least ``provider_min_wards`` wards of a provider are
    at concern at once: deterioration of several wards, not a provider-wide artefact."""
    prov = np.array([ctx.provider.get(str(w), str(w)) for w in ev.ward_id], dtype=str)
    names, codes = np.unique(prov, return_inverse=True)
    at = wards_at_level(ev.level, codes, len(names), CONCERN)
    episodes = alert_episodes(at >= ctx.settings.provider_min_wards, ctx.settings.close_after)
    rows = []
    for g, start, last, closed in zip(
        episodes.row, episodes.start, episodes.last_seen, episodes.closed, strict=True
    ):
        provider = str(names[g])
        hit = (codes == g) & (ev.level[:, start : last + 1] >= CONCERN).any(axis=1)
        wards = [str(w) for w in ev.ward_id[hit]]
        opened = ev.periods[start]
        rows.append(
            {
                "alert_id": stable_alert_id(provider, "provider", "", "combined", _iso(opened)),
                "ward_id": "",
                "scope": "provider",
                "indicator": "",
                "method": "combined",
                "level": "concern",
                "direction": "up",
                "opened": _iso(opened),
                "onset_estimate": _iso(opened),
                "last_seen": _iso(ev.periods[last]),
                "closed": "" if closed < 0 else _iso(ev.periods[closed]),
                "statistic": float(at[g, start : last + 1].max()),
                "threshold": float(ctx.settings.provider_min_wards),
                "explanation": provider_deterioration_explanation(
                    provider, wards, int(at[g, start : last + 1].max()), _date(opened)
                ),
                "provider": provider,
                "contributing": ";".join(wards),
                "questions": "",
            }
        )
    return rows


def alerts_frame(rows: list[dict]) -> pl.DataFrame:
    """Alerts as a frame with the contract columns, sorted by opening date, ward and scope."""
    schema = ALERT_FILE_SCHEMA
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return frame.sort("opened", "ward_id", "scope", "indicator", "alert_id")
