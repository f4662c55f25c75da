"""Per-series scoring for one cadence: baselines, provider adjustment, detectors, evidence.

Everything is computed for all series of a :class:`~engine.panel.Panel` at once; the only Python
loops are over families and indicators (a couple of dozen), never over wards.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from engine.baselines import BaselineSettings, fit_baselines
from engine.baselines.coldstart import predictive_dispersion
from engine.baselines.persistence import persistent_dispersion
from engine.combine.provider import group_index, provider_factor
from engine.detectors import BinomialCusum, DataSilence, Ewma, NegBinCusum, PoissonCusum, Silence
from engine.detectors.adaptive import adaptive_llr
from engine.detectors.scores import binomial_llr, poisson_llr
from engine.detectors.silence import PeerSilence, PeerSilenceResult
from engine.panel import Panel, distinct_keys
from engine.scoring.settings import DEFAULT_CLOSURE_DIRECTION, CombinationSettings, IndicatorSettings
from signals import Catalogue, Indicator

_EPS = 1e-9
#: Panels with at least this many series score their indicators on two threads.
_THREADED_SERIES = 5_000


@dataclass(frozen=True)
class SeriesScores:
    """Per-series results of one cadence; every array is ``(S, T)`` unless stated.

    Attributes
    ----------
    panel:
        The input panel (keys, periods, values, status).
    family, domain, direction, closure:
        ``(S,)`` catalogue family, domain, direction of concern and closure direction.
    expected_rate:
        Causal baseline rate after the provider adjustment (NaN before the warm-up ends).
    baseline_rate:
        Causal baseline rate before the provider adjustment.
    dispersion:
        NB alpha / beta-binomial rho / quasi-Poisson phi of the baseline.
    provider_factor:
        Leave-one-out common-mode factor (1 without adjustment).
    z_closure:
        LLR increment (nats) in the closure direction, 0 where no evidence (missing, not ready).
    cusum_up, cusum_down, onset_up, onset_down, alarm_up, alarm_down:
        One-sided CUSUMs in each direction of concern (NaN / -1 / False where a side is not watched);
        onsets are int32 period indices.
    threshold:
        ``(S,)`` CUSUM threshold (nats).
    ewma, ewma_limit, ewma_alarm:
        EWMA of standardised residuals, its exact limit (+/-), and its alarm (any side).
    silence_run, silence_expected, silence_prob, silence_alarm:
        Zero-run silence detector (only on count indicators whose fall is of concern).
    data_silence_run, data_silence_alarm:
        Runs of non-submission and their alarm.
    indicator_alarm:
        The indicator's alerting condition: its chosen detector or silence or data silence.
    rebase:
        True at periods where a new baseline starts (rebase / reconfiguration events).
    peer_based:
        True where the expected rate is the peer group's (cold start: no own warm-up yet).
    dispersion:
        (as above) the *predictive* dispersion when ``baselines.predictive`` is on: it includes the
        uncertainty of the estimated rate.
    peer_silence:
        Silence judged against the peers (series with or without a baseline of their own) and
        reporting resumptions (:class:`~engine.detectors.silence.PeerSilence`); count indicators with
        exposure only: its arrays have one row per entry of ``peer_silence_rows`` (panel rows).
    """

    panel: Panel
    family: np.ndarray
    domain: np.ndarray
    direction: np.ndarray
    closure: np.ndarray
    expected_rate: np.ndarray
    baseline_rate: np.ndarray
    dispersion: np.ndarray
    provider_factor: np.ndarray
    z_closure: np.ndarray
    cusum_up: np.ndarray
    cusum_down: np.ndarray
    onset_up: np.ndarray
    onset_down: np.ndarray
    alarm_up: np.ndarray
    alarm_down: np.ndarray
    threshold: np.ndarray
    ewma: np.ndarray
    ewma_limit: np.ndarray
    ewma_alarm: np.ndarray
    silence_run: np.ndarray
    silence_expected: np.ndarray
    silence_prob: np.ndarray
    silence_alarm: np.ndarray
    data_silence_run: np.ndarray
    data_silence_alarm: np.ndarray
    indicator_alarm: np.ndarray
    rebase: np.ndarray
    peer_based: np.ndarray | None = None
    peer_silence: PeerSilenceResult | None = None
    peer_silence_rows: np.ndarray | None = None


def closure_direction(ind: Indicator, settings: IndicatorSettings) -> str:
    """The direction a closed culture moves this indicator (for the domain evidence)."""
    if settings.closure_direction is not None:
        return settings.closure_direction
    if ind.direction != "both":
        return ind.direction
    return DEFAULT_CLOSURE_DIRECTION.get(ind.key, "up")


def llr_increment(
    family: str,
    y: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    direction: str,
    settings: IndicatorSettings,
) -> np.ndarray:
    """Per-period log-likelihood ratio (nats) of the design shift in ``direction``; NaN = no data."""
    if family == "proportion":
        odds = settings.odds_ratio_up if direction == "up" else settings.odds_ratio_down
        p = np.clip(rate, _EPS, 1 - _EPS)
        return binomial_llr(y, n, p, odds, dispersion)
    ratio = settings.rate_ratio_up if direction == "up" else settings.rate_ratio_down
    return poisson_llr(y, rate * n, ratio, family, dispersion)


def closure_adaptive_llr(
    family: str,
    y: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    direction: str,
    settings: IndicatorSettings,
    combination: CombinationSettings,
) -> np.ndarray:
    """Adaptive LLR increments (:mod:`engine.detectors.adaptive`) in ``direction``; NaN = no data.

    The estimate starts at the indicator's design ratio (rate ratio, or odds ratio for proportions).
    """
    if family == "proportion":
        design = settings.odds_ratio_up if direction == "up" else settings.odds_ratio_down
    else:
        design = settings.rate_ratio_up if direction == "up" else settings.rate_ratio_down
    z, _ = adaptive_llr(
        family,
        y,
        n,
        rate,
        dispersion,
        direction,
        design,
        combination.adaptive_min_ratio,
        combination.adaptive_max_ratio,
        combination.adaptive_lambda,
        combination.adaptive_prior_events,
    )
    return z


def _cusum_detector(family: str, direction: str, threshold: float, s: IndicatorSettings):
    common: dict[str, Any] = {"direction": direction, "threshold": threshold, "restart": "none"}
    if family == "proportion":
        return BinomialCusum(odds_ratio_up=s.odds_ratio_up, odds_ratio_down=s.odds_ratio_down, **common)
    if family == "measure":
        return PoissonCusum(
            rate_ratio_up=s.rate_ratio_up, rate_ratio_down=s.rate_ratio_down, family="measure", **common
        )
    return NegBinCusum(rate_ratio_up=s.rate_ratio_up, rate_ratio_down=s.rate_ratio_down, **common)


def score_panel(
    panel: Panel,
    catalogue: Catalogue,
    ward_type: Mapping[str, str],
    provider: Mapping[str, str],
    rebase: np.ndarray | None,
    baseline_settings: BaselineSettings,
    combination: CombinationSettings,
    indicator_settings: Mapping[str, IndicatorSettings],
    exclude: np.ndarray | None = None,
    peer_silence: PeerSilence | None = None,
) -> SeriesScores:
    """Score every series of one cadence panel (see :class:`SeriesScores`).

    ``exclude`` (``(S, T)`` bool, known at each period) marks periods an updating baseline must not
    absorb (see :func:`engine.scoring.run.evidence_frames`). ``peer_silence`` is the detector of
    silence judged against peers (configuration ``[peer_silence]``; default settings when omitted).
    """
    s_count, t_count = panel.shape
    # per-series attributes are looked up once per distinct indicator / ward, then spread to rows
    keys, of_key = distinct_keys(panel.indicator)
    inds = [catalogue[k] for k in keys]
    settings_of = {k: indicator_settings.get(k, IndicatorSettings()) for k in keys}
    family = np.array([i.family for i in inds], dtype=object)[of_key]
    domain = np.array([i.domain for i in inds], dtype=object)[of_key]
    direction = np.array([i.direction for i in inds], dtype=object)[of_key]
    closure = np.array([closure_direction(i, settings_of[i.key]) for i in inds], dtype=object)[of_key]
    wards, of_ward = distinct_keys(panel.ward_id)
    wtype = np.array([ward_type.get(w, "other") for w in wards])[of_ward]
    prov = np.array([provider.get(w, w) for w in wards])[of_ward]
    y = np.where(panel.observed, panel.y, np.nan)
    n = panel.n

    base_rate = np.full((s_count, t_count), np.nan)
    dispersion = np.full((s_count, t_count), np.nan)
    peer_based = np.zeros((s_count, t_count), dtype=bool)
    for fam in ("count", "proportion", "measure"):
        rows = np.nonzero(family == fam)[0]
        if rows.size == 0:
            continue
        group = np.char.add(np.char.add(wtype[rows], "|"), panel.indicator[rows].astype(str))
        fit = fit_baselines(
            y[rows],
            n[rows],
            fam,
            group=group,
            rebase=None if rebase is None else rebase[rows],
            settings=baseline_settings,
        )
        base_rate[rows] = fit.expected_rate
        disp = fit.dispersion
        if baseline_settings.persistence_periods > 1:
            slow = persistent_dispersion(
                y[rows],
                n[rows],
                fam,
                group,
                None if rebase is None else rebase[rows],
                baseline_settings,
                baseline_settings.persistence_periods,
            )
            disp = np.where(np.isfinite(slow), np.fmax(disp, slow), disp)
        if fam == "measure":
            disp = np.maximum(disp, combination.measure_min_dispersion)
        if baseline_settings.predictive and fit.estimate_cv2 is not None:
            cv2 = fit.estimate_cv2 * baseline_settings.uncertainty_periods
            if baseline_settings.predictive_scope == "cold_start" and fit.peer_based is not None:
                cv2 = np.where(fit.peer_based, cv2, 0.0)
            disp = predictive_dispersion(fam, disp, fit.expected_rate, cv2, n[rows])
        dispersion[rows] = disp
        if fit.peer_based is not None:
            peer_based[rows] = fit.peer_based

    if combination.provider_adjustment and s_count:
        codes, n_groups = group_index(prov, panel.indicator)
        # measures (hours) are put on the scale of effective events (y / phi) so kappa means events
        factor = provider_factor(
            y, base_rate, n, dispersion, family == "measure", codes, n_groups, combination
        )
    else:
        factor = np.ones((s_count, t_count))
    rate = base_rate * factor
    prop = family == "proportion"
    rate[prop] = np.clip(rate[prop], _EPS, 1 - _EPS)

    def nan2() -> np.ndarray:
        return np.full((s_count, t_count), np.nan)

    cusum_up, cusum_down = nan2(), nan2()
    onset_up = np.full((s_count, t_count), -1, dtype=np.int32)  # period indices: int32 halves 2 x 90 MB
    onset_down = onset_up.copy()
    alarm_up = np.zeros((s_count, t_count), dtype=bool)
    alarm_down = alarm_up.copy()
    threshold = np.zeros(s_count)
    z_closure = np.zeros((s_count, t_count))
    ewma, ewma_limit = nan2(), nan2()
    ewma_alarm = np.zeros((s_count, t_count), dtype=bool)
    silence_run = np.zeros((s_count, t_count), dtype=np.int32)
    silence_expected, silence_prob = nan2(), np.ones((s_count, t_count))
    silence_alarm = np.zeros((s_count, t_count), dtype=bool)
    indicator_alarm = np.zeros((s_count, t_count), dtype=bool)

    def score_indicator(key: str, st: IndicatorSettings) -> None:
        """Detectors of one indicator's series, written into their rows of the shared arrays."""
        rows = np.nonzero(panel.indicator == key)[0]
        ind = catalogue[key]
        if not st.enabled or ind.domain == "context":
            return
        yy, nn, rr, dd = y[rows], n[rows], rate[rows], dispersion[rows]
        h = st.threshold if st.threshold is not None else combination.cusum_threshold
        threshold[rows] = h
        detector = _cusum_detector(ind.family, ind.direction, h, st)
        side_increments = detector.increments(yy, nn, rr, dd)
        res = detector.run_increments(side_increments)
        for side in res.sides:
            if side.direction == "up":
                cusum_up[rows], onset_up[rows], alarm_up[rows] = side.statistic, side.onset, side.alarm
            else:
                cusum_down[rows], onset_down[rows], alarm_down[rows] = side.statistic, side.onset, side.alarm
        ew = Ewma(direction=ind.direction, family=ind.family).run(yy, nn, rr, dd)
        ewma[rows] = ew.sides[0].statistic if ew.sides[0].direction == "up" else -ew.sides[0].statistic
        ewma_limit[rows] = np.broadcast_to(ew.sides[0].threshold, (rows.size, t_count))
        ewma_alarm[rows] = ew.alarm
        # the closure direction is usually a watched side: reuse its increments (computed once)
        close = str(closure[rows[0]])
        if combination.evidence == "adaptive":
            z = closure_adaptive_llr(ind.family, yy, nn, rr, dd, close, st, combination)
        else:
            z = side_increments.get(close)
            if z is None:
                z = llr_increment(ind.family, yy, nn, rr, dd, close, st)
        z_closure[rows] = np.nan_to_num(z * st.weight, nan=0.0, posinf=0.0, neginf=0.0)
        chosen = ew.alarm if st.detector == "ewma" else (alarm_up[rows] | alarm_down[rows])
        if ind.family == "count" and ind.direction in ("down", "both"):
            sil = Silence(level=combination.silence_level, family="count").run(yy, nn, rr, dd)
            silence_run[rows], silence_expected[rows] = sil.run_length, sil.expected_count
            silence_prob[rows], silence_alarm[rows] = sil.probability, sil.alarm
            chosen = chosen | _holding(sil.alarm, sil.run_length)
        indicator_alarm[rows] = chosen

    # Indicators own disjoint rows and their detectors are NumPy/SciPy array code that releases the
    # GIL, so on a large panel two threads score them (the results do not depend on the order).
    if s_count >= _THREADED_SERIES:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="indicators") as pool:
            for job in [pool.submit(score_indicator, key, st) for key, st in settings_of.items()]:
                job.result()
    else:
        for key, st in settings_of.items():
            score_indicator(key, st)

    ds = DataSilence(level=combination.data_silence_level, min_run=combination.data_silence_min_run)
    dsr = ds.run(panel.y, status=panel.status)
    # data silence counts only once the series has started (a late joiner is not silent)
    started = np.arange(t_count)[None, :] >= panel.first_period()[:, None]
    data_silence_alarm = _holding(dsr.alarm, dsr.run_length) & started
    data_silence_run = dsr.run_length
    # silence of series that never established a baseline (or lost it): judged against the peers
    peer_rows = (family == "count") & np.isin(
        panel.indicator, [i.key for i in inds if i.exposure and i.domain != "context"]
    )
    peer, peer_index = None, np.nonzero(peer_rows)[0]
    if peer_index.size:
        peer = (peer_silence or PeerSilence()).for_cadence(panel.cadence).run(
            panel.y[peer_index], n[peer_index], panel.status[peer_index],
            group=np.char.add(np.char.add(wtype[peer_index].astype(str), "|"),
                              panel.indicator[peer_index].astype(str)),
        )  # fmt: skip
        data_silence_alarm[peer_index] |= _holding(peer.alarm, peer.run_length)
        data_silence_run = data_silence_run.copy()
        data_silence_run[peer_index] = np.maximum(data_silence_run[peer_index], peer.run_length)
    indicator_alarm |= data_silence_alarm
    return SeriesScores(
        panel=panel,
        family=family,
        domain=domain,
        direction=direction,
        closure=closure,
        expected_rate=rate,
        baseline_rate=base_rate,
        dispersion=dispersion,
        provider_factor=factor,
        z_closure=z_closure,
        cusum_up=cusum_up,
        cusum_down=cusum_down,
        onset_up=onset_up,
        onset_down=onset_down,
        alarm_up=alarm_up,
        alarm_down=alarm_down,
        threshold=threshold,
        ewma=ewma,
        ewma_limit=ewma_limit,
        ewma_alarm=ewma_alarm,
        silence_run=silence_run,
        silence_expected=silence_expected,
        silence_prob=silence_prob,
        silence_alarm=silence_alarm,
        data_silence_run=data_silence_run,
        data_silence_alarm=data_silence_alarm,
        indicator_alarm=indicator_alarm,
        rebase=np.zeros(panel.shape, dtype=bool) if rebase is None else rebase,
        peer_based=peer_based,
        peer_silence=peer,
        peer_silence_rows=peer_index,
    )


def _holding(alarm: np.ndarray, run_length: np.ndarray) -> np.ndarray:
    """A run-based alarm holds from its first alarm until the run ends (run length back to 0)."""
    out = np.empty(alarm.shape, dtype=bool)
    _hold(np.ascontiguousarray(alarm, dtype=np.bool_), np.ascontiguousarray(run_length), out)
    return out


@njit(cache=True, nogil=True)
def _hold(alarm: np.ndarray, run_length: np.ndarray, out: np.ndarray) -> None:
    for s in range(alarm.shape[0]):
        holding = False
        for t in range(alarm.shape[1]):
            holding = (holding or alarm[s, t]) and run_length[s, t] > 0
            out[s, t] = holding
