"""Per-series scoring for one cadence: baselines, provider adjustment, detectors, evidence.

Everything is computed for all series of a :class:`~engine.panel.Panel` at once; the only Python
loops are over families and indicators (a couple of dozen), never over wards.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numba import njit

from engine.baselines import Baseline, BaselineSettings, fit_baselines
from engine.baselines.coldstart import national_rates, predictive_dispersion
from engine.baselines.persistence import persistent_dispersion
from engine.combine.provider import group_index, provider_factor
from engine.detectors import BinomialCusum, DataSilence, Ewma, NegBinCusum, PoissonCusum, Silence
from engine.detectors.adaptive import adaptive_llr
from engine.detectors.scores import binomial_llr, poisson_llr
from engine.detectors.silence import PeerSilence, PeerSilenceResult
from engine.panel import Panel, distinct_keys
from engine.runtime.settings import machine_cores
from engine.scoring.known_rates import KnownRates
from engine.scoring.settings import DEFAULT_CLOSURE_DIRECTION, CombinationSettings, IndicatorSettings
from signals import Catalogue, Indicator

log = logging.getLogger(__name__)

_EPS = 1e-9
#: Panels with at least this many series score their indicators on worker threads.
_THREADED_SERIES = 5_000


@dataclass(frozen=True)
class DetectorOutputs:
    """The detectors' per-series arrays, ``(S, T)`` unless stated (shared by :class:`DetectorArrays`,
    which fills them, and :class:`SeriesScores`, which carries them).

    Attributes
    ----------
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
    indicator_alarm:
        The indicator's alerting condition: its chosen detector or silence or data silence.
    """

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
    indicator_alarm: np.ndarray


@dataclass(frozen=True)
class SeriesScores(DetectorOutputs):
    """Per-series results of one cadence; every array is ``(S, T)`` unless stated. The detectors'
    arrays are those of :class:`DetectorOutputs`.

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
    data_silence_run, data_silence_alarm:
        Runs of non-submission and their alarm.
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
    data_silence_run: np.ndarray
    data_silence_alarm: np.ndarray
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


@dataclass(frozen=True)
class IndicatorRows:
    """What every detector reads for one indicator's series, ``(R, T)`` each.

    Attributes
    ----------
    family:
        Catalogue family (``count``, ``proportion``, ``measure``).
    y, n:
        Numerator (NaN where not observed) and denominator (exposure).
    rate:
        Expected rate after the provider adjustment (NaN before the warm-up ends).
    dispersion:
        NB alpha / beta-binomial rho / quasi-Poisson phi of the baseline.
    """

    family: str
    y: np.ndarray
    n: np.ndarray
    rate: np.ndarray
    dispersion: np.ndarray


def design_ratio(family: str, direction: str, settings: IndicatorSettings) -> float:
    """The shift a detector is designed for: odds ratio (proportions) or rate ratio, by direction."""
    if family == "proportion":
        return settings.odds_ratio_up if direction == "up" else settings.odds_ratio_down
    return settings.rate_ratio_up if direction == "up" else settings.rate_ratio_down


def llr_increment(rows: IndicatorRows, direction: str, settings: IndicatorSettings) -> np.ndarray:
    """Per-period log-likelihood ratio (nats) of the design shift in ``direction``; NaN = no data."""
    ratio = design_ratio(rows.family, direction, settings)
    if rows.family == "proportion":
        p = np.clip(rows.rate, _EPS, 1 - _EPS)
        return binomial_llr(rows.y, rows.n, p, ratio, rows.dispersion)
    return poisson_llr(rows.y, rows.rate * rows.n, ratio, rows.family, rows.dispersion)


def closure_adaptive_llr(
    rows: IndicatorRows, direction: str, settings: IndicatorSettings, combination: CombinationSettings
) -> np.ndarray:
    """Adaptive LLR increments (:mod:`engine.detectors.adaptive`) in ``direction``; NaN = no data.

    The estimate starts at the indicator's design ratio (rate ratio, or odds ratio for proportions).
    """
    z, _ = adaptive_llr(
        rows.family,
        rows.y,
        rows.n,
        rows.rate,
        rows.dispersion,
        direction,
        design_ratio(rows.family, direction, settings),
        combination.adaptive_min_ratio,
        combination.adaptive_max_ratio,
        combination.adaptive_lambda,
        combination.adaptive_prior_events,
        combination.adaptive_proportion_scale,
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


@dataclass(frozen=True)
class SeriesAttributes:
    """Catalogue and register attributes of every series of a panel, ``(S,)`` each.

    Looked up once per distinct indicator or ward, then spread to the rows.

    Attributes
    ----------
    indicators:
        Catalogue entry of each distinct indicator key of the panel (panel order of first use).
    settings:
        Indicator key -> its settings (defaults where not configured).
    family, domain, direction, closure:
        Catalogue family, domain, direction of concern and closure direction of each series.
    ward_type, provider:
        The series' ward type (``other`` when unknown) and provider (the ward itself when unknown).
    """

    indicators: list[Indicator]
    settings: dict[str, IndicatorSettings]
    family: np.ndarray
    domain: np.ndarray
    direction: np.ndarray
    closure: np.ndarray
    ward_type: np.ndarray
    provider: np.ndarray

    @classmethod
    def of(
        cls,
        panel: Panel,
        catalogue: Catalogue,
        indicator_settings: Mapping[str, IndicatorSettings],
        ward_type: Mapping[str, str],
        provider: Mapping[str, str],
    ) -> SeriesAttributes:
        """Attributes of ``panel``'s series from the catalogue, settings and ward register maps."""
        keys, of_key = distinct_keys(panel.indicator)
        inds = [catalogue[k] for k in keys]
        settings = {k: indicator_settings.get(k, IndicatorSettings()) for k in keys}
        wards, of_ward = distinct_keys(panel.ward_id)
        return cls(
            indicators=inds,
            settings=settings,
            family=np.array([i.family for i in inds], dtype=object)[of_key],
            domain=np.array([i.domain for i in inds], dtype=object)[of_key],
            direction=np.array([i.direction for i in inds], dtype=object)[of_key],
            closure=np.array([closure_direction(i, settings[i.key]) for i in inds], dtype=object)[of_key],
            ward_type=np.array([ward_type.get(w, "other") for w in wards])[of_ward],
            provider=np.array([provider.get(w, w) for w in wards])[of_ward],
        )


@dataclass(frozen=True)
class PanelBaselines:
    """Causal baselines of every series, ``(S, T)`` each.

    Attributes
    ----------
    base_rate:
        Baseline rate before the provider adjustment (NaN before the warm-up ends).
    dispersion:
        NB alpha / beta-binomial rho / quasi-Poisson phi (predictive when configured).
    peer_based:
        True where the rate is the peer group's (cold start).
    """

    base_rate: np.ndarray
    dispersion: np.ndarray
    peer_based: np.ndarray


def fit_panel_baselines(
    panel: Panel,
    y: np.ndarray,
    attrs: SeriesAttributes,
    rebase: np.ndarray | None,
    settings: BaselineSettings,
    combination: CombinationSettings,
    catalogue: Catalogue,
) -> PanelBaselines:
    """Baselines of every series, one fit per family; peer groups are ``ward type | indicator``,
    shrunk towards the provider's wards of the type and the catalogue's national rates (cold start)."""
    s_count, t_count = panel.shape
    n = panel.n
    base_rate = np.full((s_count, t_count), np.nan)
    dispersion = np.full((s_count, t_count), np.nan)
    peer_based = np.zeros((s_count, t_count), dtype=bool)
    for fam in ("count", "proportion", "measure"):
        rows = np.nonzero(attrs.family == fam)[0]
        if rows.size == 0:
            continue
        group = np.char.add(np.char.add(attrs.ward_type[rows], "|"), panel.indicator[rows].astype(str))
        fam_rebase = None if rebase is None else rebase[rows]
        national, national_cv2 = national_rates(catalogue, panel.indicator[rows], attrs.ward_type[rows])
        fit = fit_baselines(
            y[rows],
            n[rows],
            fam,
            group=group,
            rebase=fam_rebase,
            settings=settings,
            provider=attrs.provider[rows],
            national_rate=national,
            national_cv2=national_cv2,
        )
        base_rate[rows] = fit.expected_rate
        dispersion[rows] = _family_dispersion(
            fit, y[rows], n[rows], fam, group, fam_rebase, settings, combination
        )
        if fit.peer_based is not None:
            peer_based[rows] = fit.peer_based
    return PanelBaselines(base_rate, dispersion, peer_based)


def with_known_rates(
    panel: Panel, attrs: SeriesAttributes, baselines: PanelBaselines, known: KnownRates
) -> PanelBaselines:
    """The baselines with the known true rate and dispersion wherever both are known and the fitted
    baseline is ready (the warm-up and cold-start timing is kept; measures keep the fitted
    dispersion, whose scale the generator does not state)."""
    rate, disp = known.dense(panel)
    use = np.isfinite(rate) & np.isfinite(baselines.base_rate)
    base_rate = np.where(use, rate, baselines.base_rate)
    counted = use & np.isfinite(disp) & (attrs.family != "measure")[:, None]
    dispersion = np.where(counted, disp, baselines.dispersion)
    return PanelBaselines(base_rate, dispersion, baselines.peer_based)


def _family_dispersion(
    fit: Baseline,
    y: np.ndarray,
    n: np.ndarray,
    family: str,
    group: np.ndarray,
    rebase: np.ndarray | None,
    settings: BaselineSettings,
    combination: CombinationSettings,
) -> np.ndarray:
    """The dispersion the detectors use: the fit's, raised to the persistent (slow) one, floored
    for measures, and made predictive (the rate's own uncertainty included) when configured."""
    disp = fit.dispersion
    if settings.persistence_periods > 1:
        slow = persistent_dispersion(y, n, family, group, rebase, settings, settings.persistence_periods)
        disp = np.where(np.isfinite(slow), np.fmax(disp, slow), disp)
    if family == "measure":
        disp = np.maximum(disp, combination.measure_min_dispersion)
    if settings.predictive and fit.estimate_cv2 is not None:
        cv2 = fit.estimate_cv2 * settings.uncertainty_periods
        if settings.predictive_scope == "cold_start" and fit.peer_based is not None:
            cv2 = np.where(fit.peer_based, cv2, 0.0)
        disp = predictive_dispersion(family, disp, fit.expected_rate, cv2, n)
    return disp


def provider_adjustment(
    panel: Panel,
    y: np.ndarray,
    attrs: SeriesAttributes,
    baselines: PanelBaselines,
    combination: CombinationSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """``(factor, rate)``: the leave-one-out provider factor and the expected rate it gives
    (proportions clipped into (0, 1)); factor 1 without the adjustment."""
    s_count, t_count = panel.shape
    if combination.provider_adjustment and s_count:
        codes, n_groups = group_index(attrs.provider, panel.indicator)
        # measures (hours) are put on the scale of effective events (y / phi) so kappa means events
        factor = provider_factor(
            y,
            baselines.base_rate,
            panel.n,
            baselines.dispersion,
            attrs.family == "measure",
            codes,
            n_groups,
            combination,
        )
    else:
        factor = np.ones((s_count, t_count))
    rate = baselines.base_rate * factor
    prop = attrs.family == "proportion"
    rate[prop] = np.clip(rate[prop], _EPS, 1 - _EPS)
    return factor, rate


#: The detector arrays whose "not watched" value is not zero, and that value: an indicator's scoring
#: writes each on its rows where it watches (:func:`score_indicator`) and this value elsewhere.
UNWATCHED_FILL: dict[str, float] = {
    "cusum_up": np.nan,
    "cusum_down": np.nan,
    "onset_up": -1,
    "onset_down": -1,
    "ewma": np.nan,
    "ewma_limit": np.nan,
    "silence_expected": np.nan,
    "silence_prob": 1.0,
}
#: The arrays of each CUSUM side (alarms start False: not listed).
_SIDE_FIELDS = {"up": ("cusum_up", "onset_up"), "down": ("cusum_down", "onset_down")}
#: The arrays of the zero-run silence detector with a non-zero unwatched value.
_SILENCE_FIELDS = ("silence_expected", "silence_prob")


@dataclass(frozen=True)
class DetectorArrays(DetectorOutputs):
    """The detectors' ``(S, T)`` outputs, filled indicator by indicator: each indicator writes only
    its own rows, so indicators may be scored on different threads."""

    @classmethod
    def empty(cls, s_count: int, t_count: int) -> DetectorArrays:
        """Arrays for ``s_count`` series: 0 / False where nothing is watched, and the arrays of
        :data:`UNWATCHED_FILL` left unset: :func:`score_indicator` writes every row of them (its
        detector's values or :meth:`unwatched`), so they are not filled twice (~0.6 GB of writes at
        national scale). :meth:`filled` is the reference: every array set up front."""
        shape = (s_count, t_count)
        return cls(
            cusum_up=np.empty(shape),
            cusum_down=np.empty(shape),
            onset_up=np.empty(shape, dtype=np.int32),  # period indices: int32 halves 2 x 90 MB
            onset_down=np.empty(shape, dtype=np.int32),
            alarm_up=np.zeros(shape, dtype=bool),
            alarm_down=np.zeros(shape, dtype=bool),
            threshold=np.zeros(s_count),
            z_closure=np.zeros(shape),
            ewma=np.empty(shape),
            ewma_limit=np.empty(shape),
            ewma_alarm=np.zeros(shape, dtype=bool),
            silence_run=np.zeros(shape, dtype=np.int32),
            silence_expected=np.empty(shape),
            silence_prob=np.empty(shape),
            silence_alarm=np.zeros(shape, dtype=bool),
            indicator_alarm=np.zeros(shape, dtype=bool),
        )

    @classmethod
    def filled(cls, s_count: int, t_count: int) -> DetectorArrays:
        """Reference of :meth:`empty`: every array at its unwatched value (NaN / -1 / False / 0 / 1)."""
        shape = (s_count, t_count)
        onset = np.full(shape, -1, dtype=np.int32)
        return cls(
            cusum_up=np.full(shape, np.nan),
            cusum_down=np.full(shape, np.nan),
            onset_up=onset,
            onset_down=onset.copy(),
            alarm_up=np.zeros(shape, dtype=bool),
            alarm_down=np.zeros(shape, dtype=bool),
            threshold=np.zeros(s_count),
            z_closure=np.zeros(shape),
            ewma=np.full(shape, np.nan),
            ewma_limit=np.full(shape, np.nan),
            ewma_alarm=np.zeros(shape, dtype=bool),
            silence_run=np.zeros(shape, dtype=np.int32),
            silence_expected=np.full(shape, np.nan),
            silence_prob=np.ones(shape),
            silence_alarm=np.zeros(shape, dtype=bool),
            indicator_alarm=np.zeros(shape, dtype=bool),
        )

    def unwatched(self, rows: np.ndarray, names: tuple[str, ...]) -> None:
        """Set the arrays ``names`` (of :data:`UNWATCHED_FILL`) to their unwatched value on ``rows``."""
        for name in names:
            getattr(self, name)[rows] = UNWATCHED_FILL[name]


def cusum_evidence(
    out: DetectorArrays, rows: np.ndarray, data: IndicatorRows, ind: Indicator, threshold: float,
    settings: IndicatorSettings,
) -> dict[str, np.ndarray]:  # fmt: skip
    """One-sided CUSUMs in each watched direction into ``rows``; returns their LLR increments."""
    out.threshold[rows] = threshold
    detector = _cusum_detector(ind.family, ind.direction, threshold, settings)
    side_increments = detector.increments(data.y, data.n, data.rate, data.dispersion)
    res = detector.run_increments(side_increments)
    for direction, names in _SIDE_FIELDS.items():
        if direction not in {side.direction for side in res.sides}:
            out.unwatched(rows, names)
    for side in res.sides:
        if side.direction == "up":
            out.cusum_up[rows], out.onset_up[rows], out.alarm_up[rows] = (
                side.statistic,
                side.onset,
                side.alarm,
            )
        else:
            out.cusum_down[rows], out.onset_down[rows], out.alarm_down[rows] = (
                side.statistic, side.onset, side.alarm,
            )  # fmt: skip
    return side_increments


def ewma_evidence(out: DetectorArrays, rows: np.ndarray, data: IndicatorRows, ind: Indicator) -> np.ndarray:
    """EWMA of standardised residuals and its exact limit into ``rows``; returns its alarm."""
    ew = Ewma(direction=ind.direction, family=ind.family).run(data.y, data.n, data.rate, data.dispersion)
    first = ew.sides[0]
    out.ewma[rows] = first.statistic if first.direction == "up" else -first.statistic
    out.ewma_limit[rows] = np.broadcast_to(first.threshold, (rows.size, data.y.shape[1]))
    out.ewma_alarm[rows] = ew.alarm
    return ew.alarm


def closure_evidence(
    out: DetectorArrays,
    rows: np.ndarray,
    data: IndicatorRows,
    close: str,
    settings: IndicatorSettings,
    combination: CombinationSettings,
    side_increments: Mapping[str, np.ndarray],
) -> None:
    """Weighted LLR increments in the closure direction into ``rows`` (0 where no evidence).

    The closure direction is usually a watched CUSUM side: its increments are reused then.
    """
    if combination.evidence == "adaptive":
        z = closure_adaptive_llr(data, close, settings, combination)
    elif close in side_increments:
        z = side_increments[close]
    else:
        z = llr_increment(data, close, settings)
    out.z_closure[rows] = np.nan_to_num(z * settings.weight, nan=0.0, posinf=0.0, neginf=0.0)


def silence_evidence(
    out: DetectorArrays, rows: np.ndarray, data: IndicatorRows, combination: CombinationSettings
) -> np.ndarray:
    """Zero-run silence of a count whose fall is of concern into ``rows``; returns its holding alarm."""
    sil = Silence(level=combination.silence_level, family="count").run(
        data.y, data.n, data.rate, data.dispersion
    )
    out.silence_run[rows], out.silence_expected[rows] = sil.run_length, sil.expected_count
    out.silence_prob[rows], out.silence_alarm[rows] = sil.probability, sil.alarm
    return _holding(sil.alarm, sil.run_length)


@dataclass(frozen=True)
class ExpectedPanel:
    """A panel with what its detectors compare it to, ``(S, T)`` each.

    Attributes
    ----------
    panel:
        The observations (keys, periods, denominators, status).
    y:
        Numerator, NaN where not observed.
    rate, dispersion:
        Expected rate after the provider adjustment, and the baseline's dispersion.
    """

    panel: Panel
    y: np.ndarray
    rate: np.ndarray
    dispersion: np.ndarray

    def indicator_rows(self, ind: Indicator) -> tuple[np.ndarray, IndicatorRows]:
        """The panel rows of indicator ``ind`` and what its detectors read there."""
        rows = np.nonzero(self.panel.indicator == ind.key)[0]
        data = IndicatorRows(
            ind.family, self.y[rows], self.panel.n[rows], self.rate[rows], self.dispersion[rows]
        )
        return rows, data


def score_indicator(
    out: DetectorArrays,
    expected: ExpectedPanel,
    ind: Indicator,
    settings: IndicatorSettings,
    combination: CombinationSettings,
) -> None:
    """Detectors of one indicator's series, written into their rows of ``out`` (context indicators
    and disabled ones are left unwatched). The indicator alarm is its chosen detector's (CUSUM or
    EWMA), or silence for counts whose fall is of concern.

    Every row of the indicator is written in each array :meth:`DetectorArrays.empty` leaves unset:
    the detector's values, or the unwatched value where a side or detector is not run."""
    if not settings.enabled or ind.domain == "context":
        out.unwatched(np.nonzero(expected.panel.indicator == ind.key)[0], tuple(UNWATCHED_FILL))
        return
    rows, data = expected.indicator_rows(ind)
    h = settings.threshold if settings.threshold is not None else combination.cusum_threshold
    side_increments = cusum_evidence(out, rows, data, ind, h, settings)
    ewma_alarm = ewma_evidence(out, rows, data, ind)
    close = closure_direction(ind, settings)
    closure_evidence(out, rows, data, close, settings, combination, side_increments)
    chosen = ewma_alarm if settings.detector == "ewma" else (out.alarm_up[rows] | out.alarm_down[rows])
    if ind.family == "count" and ind.direction in ("down", "both"):
        chosen = chosen | silence_evidence(out, rows, data, combination)
    else:
        out.unwatched(rows, _SILENCE_FIELDS)
    out.indicator_alarm[rows] = chosen


def _score_indicators(
    out: DetectorArrays,
    expected: ExpectedPanel,
    attrs: SeriesAttributes,
    combination: CombinationSettings,
    workers: int,
) -> None:
    """:func:`score_indicator` for every indicator of the panel.

    Indicators own disjoint rows and their detectors are NumPy/SciPy array code that releases the
    GIL, so on a large panel ``workers`` threads score them (the results do not depend on the order).
    """
    jobs = [(ind, attrs.settings[ind.key]) for ind in attrs.indicators]
    if expected.panel.shape[0] >= _THREADED_SERIES and workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="indicators") as pool:
            futures = [pool.submit(score_indicator, out, expected, ind, st, combination) for ind, st in jobs]
            for job in futures:
                job.result()
    else:
        for ind, st in jobs:
            score_indicator(out, expected, ind, st, combination)


@dataclass(frozen=True)
class DataSilenceEvidence:
    """Runs of non-submission and their alarm, ``(S, T)``, with silence judged against the peers.

    Attributes
    ----------
    run, alarm:
        Longest current run (own or judged against peers) and the holding alarm (only once the
        series has started: a late joiner is not silent).
    peer:
        Silence judged against the peers on ``peer_rows`` (count indicators with exposure), or None.
    peer_rows:
        Panel rows of ``peer``'s arrays.
    """

    run: np.ndarray
    alarm: np.ndarray
    peer: PeerSilenceResult | None
    peer_rows: np.ndarray


def data_silence_evidence(
    panel: Panel,
    attrs: SeriesAttributes,
    combination: CombinationSettings,
    peer_silence: PeerSilence | None = None,
) -> DataSilenceEvidence:
    """Data silence of every series: its own runs of non-submission, and (for count indicators with
    exposure) silence of series that never established a baseline, or lost it, judged against peers."""
    ds = DataSilence(level=combination.data_silence_level, min_run=combination.data_silence_min_run)
    dsr = ds.run(panel.y, status=panel.status)
    watched = [i.key for i in attrs.indicators if i.exposure and i.domain != "context"]
    peer_index = np.nonzero((attrs.family == "count") & np.isin(panel.indicator, watched))[0]
    peer = None
    if peer_index.size:
        group = np.char.add(
            np.char.add(attrs.ward_type[peer_index].astype(str), "|"), panel.indicator[peer_index].astype(str)
        )
        peer = (
            (peer_silence or PeerSilence())
            .for_cadence(panel.cadence)
            .run(panel.y[peer_index], panel.n[peer_index], panel.status[peer_index], group=group)
        )
    run, alarm = _silence_union(dsr.alarm, dsr.run_length, panel.first_period(), peer_index, peer)
    return DataSilenceEvidence(run, alarm, peer, peer_index)


def _silence_union(
    own_alarm: np.ndarray,
    own_run: np.ndarray,
    first: np.ndarray,
    peer_index: np.ndarray,
    peer: PeerSilenceResult | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(run, alarm)``: each series' own data-silence alarm held while its run lasts, from its first
    period on, or'ed with its peer-judged alarm (held likewise) where it has one; the run is the
    longer of the two. One compiled pass instead of several ``(S, T)`` temporaries.

    Reference: ``alarm = _holding(own_alarm, own_run) & (t >= first)``; for the peer rows
    ``alarm[rows] |= _holding(peer.alarm, peer.run_length)`` and ``run[rows] = max(run[rows],
    peer.run_length)`` (tests/scoring/test_silence_union.py checks the two agree).
    """
    run = np.array(own_run, copy=True)
    alarm = np.empty(own_alarm.shape, dtype=bool)
    _hold_from(np.ascontiguousarray(own_alarm, dtype=np.bool_), run, first.astype(np.int64), alarm)
    if peer is not None and peer_index.size:
        _merge_peer(
            np.ascontiguousarray(peer.alarm, dtype=np.bool_),
            np.ascontiguousarray(peer.run_length),
            peer_index.astype(np.int64),
            run,
            alarm,
        )
    return run, alarm


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
    workers: int | None = None,
    known_rates: KnownRates | None = None,
) -> SeriesScores:
    """Score every series of one cadence panel (see :class:`SeriesScores`).

    Baselines (:func:`fit_panel_baselines`), the provider adjustment (:func:`provider_adjustment`),
    each indicator's detectors (:func:`score_indicator`) and data silence
    (:func:`data_silence_evidence`). ``exclude`` (``(S, T)`` bool, known at each period) marks
    periods an updating baseline must not absorb (see :func:`engine.scoring.run.evidence_frames`).
    ``peer_silence`` is the detector of silence judged against peers (configuration
    ``[peer_silence]``; default settings when omitted). ``workers``: threads scoring indicators on a
    large panel (default: the cores this process may use; results do not depend on it).
    ``known_rates`` (evaluation only) replaces the estimated baselines by true ones
    (:func:`with_known_rates`).
    """
    attrs = SeriesAttributes.of(panel, catalogue, indicator_settings, ward_type, provider)
    y = np.where(panel.observed, panel.y, np.nan)
    baselines = fit_panel_baselines(panel, y, attrs, rebase, baseline_settings, combination, catalogue)
    if known_rates is not None:
        baselines = with_known_rates(panel, attrs, baselines, known_rates)
    factor, rate = provider_adjustment(panel, y, attrs, baselines, combination)
    log.debug("%s panel %s: baselines fitted", panel.cadence, panel.shape)
    out = DetectorArrays.empty(*panel.shape)
    threads = machine_cores() if workers is None else max(1, int(workers))
    _score_indicators(out, ExpectedPanel(panel, y, rate, baselines.dispersion), attrs, combination, threads)
    silence = data_silence_evidence(panel, attrs, combination, peer_silence)
    out.indicator_alarm[...] |= silence.alarm
    log.debug("%s panel %s: detectors run (%d indicator thread(s))", panel.cadence, panel.shape, threads)
    return SeriesScores(
        panel=panel,
        family=attrs.family,
        domain=attrs.domain,
        direction=attrs.direction,
        closure=attrs.closure,
        expected_rate=rate,
        baseline_rate=baselines.base_rate,
        dispersion=baselines.dispersion,
        provider_factor=factor,
        **{f.name: getattr(out, f.name) for f in fields(DetectorOutputs)},
        data_silence_run=silence.run,
        data_silence_alarm=silence.alarm,
        rebase=np.zeros(panel.shape, dtype=bool) if rebase is None else rebase,
        peer_based=baselines.peer_based,
        peer_silence=silence.peer,
        peer_silence_rows=silence.peer_rows,
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


@njit(cache=True, nogil=True)
def _hold_from(alarm: np.ndarray, run_length: np.ndarray, first: np.ndarray, out: np.ndarray) -> None:
    """:func:`_hold` and'ed with ``t >= first[s]``."""
    for s in range(alarm.shape[0]):
        holding = False
        for t in range(alarm.shape[1]):
            holding = (holding or alarm[s, t]) and run_length[s, t] > 0
            out[s, t] = holding and t >= first[s]


@njit(cache=True, nogil=True)
def _merge_peer(
    peer_alarm: np.ndarray, peer_run: np.ndarray, rows: np.ndarray, run: np.ndarray, alarm: np.ndarray
) -> None:
    """Or the held peer alarm into ``alarm[rows[j]]`` and raise ``run[rows[j]]`` to the peer run."""
    for j in range(rows.shape[0]):
        s = rows[j]
        holding = False
        for t in range(peer_alarm.shape[1]):
            holding = (holding or peer_alarm[j, t]) and peer_run[j, t] > 0
            alarm[s, t] = alarm[s, t] or holding
            if peer_run[j, t] > run[s, t]:
                run[s, t] = peer_run[j, t]
