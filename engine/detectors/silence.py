"""Silence detectors: runs of zero counts that the baseline makes improbable, and data silence.

**Silence (zero runs).** For the current run of consecutive observed zeros ending at ``t`` (missing
periods neither extend nor break it), the probability of that run under the series' own baseline is
``P = prod_t P(Y_t = 0)`` with ``P(Y_t = 0)`` from the NB (``(1 + alpha mu_t)^(-1/alpha)``), Poisson
(``exp(-mu_t)``), beta-binomial or binomial model (:func:`engine.detectors.scores.log_prob_zero`),
``mu_t = expected_rate_t * n_t``. The detector reports the run length, the expected count over the
run and ``P``, and alarms when ``P < level`` (e.g. 10 weeks with no complaints where 3 were expected:
``P = exp(-3) = 0.05`` under Poisson). Because ``P`` is the exact probability that a given run of zeros
occurs, the alarm is a test at level ``level`` of each run; with overdispersion the NB ``P`` is larger
than the Poisson one (zeros are more common), which is what keeps false alarms near the stated rate.
After an alarm, ``restart="none"`` (default) keeps the series flagged while the run continues;
``"zero"`` starts a new run (alarms then form a renewal process, for ARL simulation).

**Data silence.** A series is expected to submit every period after its first submission. A run of
``k`` non-submitted periods (missing, unknown, or suppressed when ``suppressed_is_silence``) is scored by
its posterior-predictive probability under the series' own submission history *before* the run: with
``o`` submitted and ``m`` missed expected periods and a Beta(a, b) prior on the per-period miss
probability ``q``, ``P(k in a row) = B(a + m + k, b + o) / B(a + m, b + o)`` (``= E[q^k]``). The alarm
``P < level`` and ``k >= min_run`` therefore has, for a series whose misses are independent with
probability ``q``, probability about ``level`` of being raised by any given gap: a reliable submitter
(small ``m``) is flagged after two or three missed periods, a series that often misses (high ``q``)
only after a run that is unusual *for it*; a short history makes ``P`` larger (more caution). A whole
ward is data-silent when none of its indicators is submitted; :func:`ward_data_silence` applies the
same rule to that ward-level series, as its own signal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
from scipy import stats

from engine.detectors import scores
from engine.detectors._kernels import missing_run_path, zero_run_path
from engine.detectors.cusum import _check_arrays
from engine.panel import MISSING, OBSERVED, SUPPRESSED


@dataclass(frozen=True)
class SilenceResult:
    """Zero-run silence over ``(S, T)`` (all arrays ``(S, T)``).

    Attributes
    ----------
    run_length : int64
        Observed zero periods in the current run (0 when the last observation was positive).
    expected_count : float64
        Expected number of events over the run under the baseline.
    probability : float64
        Probability of the run under the baseline (1.0 when the run is empty).
    alarm : bool
        ``probability < level`` at an observed zero period.
    onset : int64
        First period of the current run (``-1`` when none).
    level : float
        The alarm level used.
    """

    detector: str
    run_length: np.ndarray
    expected_count: np.ndarray
    probability: np.ndarray
    alarm: np.ndarray
    onset: np.ndarray
    level: float


@dataclass(frozen=True)
class Silence:
    """Alarm on improbable runs of zero counts."""

    level: float = field(default=0.01, metadata={"doc": "alarm when P(current zero run) < level"})
    family: Literal["count", "proportion", "measure"] = field(
        default="count", metadata={"doc": "count, proportion or measure"}
    )
    overdispersed: bool = field(default=True, metadata={"doc": "NB / beta-binomial zero probability"})
    restart: Literal["none", "zero"] = field(
        default="none", metadata={"doc": "after an alarm: none (stay flagged) or zero (new run)"}
    )

    name = "silence"

    def run(
        self,
        y: np.ndarray,
        n: np.ndarray,
        expected_rate: np.ndarray,
        dispersion: float | np.ndarray | None = None,
    ) -> SilenceResult:
        """Run on ``(S, T)`` numerator, exposure, baseline rate and dispersion."""
        y, n, r = _check_arrays(y, n, expected_rate)
        disp = dispersion if (self.overdispersed or self.family == "measure") else None
        lp0 = scores.log_prob_zero(n, r, self.family, disp)
        with np.errstate(invalid="ignore"):
            mu = r * n
        run, lp, ex, alarm, onset = zero_run_path(
            np.ascontiguousarray(y),
            np.ascontiguousarray(lp0),
            np.ascontiguousarray(mu),
            float(np.log(self.level)),
            0 if self.restart == "zero" else 2,
        )
        return SilenceResult(self.name, run, ex, np.exp(lp), alarm, onset, self.level)


@dataclass(frozen=True)
class DataSilenceResult:
    """Runs of non-submission (all arrays ``(R, T)``, R = series or wards).

    Attributes
    ----------
    run_length : int64
        Consecutive non-submitted periods ending at t (0 when submitted or not yet started).
    probability : float64
        Posterior-predictive probability of the run given the earlier submission history (1.0 at 0).
    alarm : bool
        ``run_length >= min_run`` and ``probability < level``.
    onset : int64
        First period of the current gap (``-1`` when none).

    ``probability`` and ``onset`` are derived on first access (from ``log_probability`` and
    ``run_length``): scoring a national panel needs only the run and the alarm, and each derived
    ``(S, T)`` array is ~90 MB there.
    """

    detector: str
    run_length: np.ndarray
    log_probability: np.ndarray
    alarm: np.ndarray
    level: float

    @cached_property
    def probability(self) -> np.ndarray:
        """``(R, T)`` float64 probability of the current run (1.0 at 0)."""
        return np.exp(self.log_probability)

    @cached_property
    def onset(self) -> np.ndarray:
        """``(R, T)`` int64 first period of the current gap (``-1`` when none)."""
        t_idx = np.arange(self.run_length.shape[1])[None, :]
        return np.where(self.run_length > 0, t_idx - self.run_length + 1, -1)


@dataclass(frozen=True)
class DataSilence:
    """Alarm on runs of missing or suppressed submissions, scored against the series' own history."""

    level: float = field(default=0.01, metadata={"doc": "alarm when P(gap this long | history) < level"})
    min_run: int = field(default=2, metadata={"doc": "never alarm on a gap shorter than this (periods)"})
    prior_missing: float = field(
        default=1.0, metadata={"doc": "Beta prior a on the per-period miss probability"}
    )
    prior_submitted: float = field(
        default=1.0, metadata={"doc": "Beta prior b on the per-period miss probability"}
    )
    suppressed_is_silence: bool = field(
        default=True, metadata={"doc": "count suppressed (*) values as non-submission"}
    )

    name = "data_silence"

    def missing_mask(self, y: np.ndarray, status: np.ndarray | None = None) -> np.ndarray:
        """``(S, T)`` bool non-submission: from ``status`` codes when given, else ``isnan(y)``."""
        if status is None:
            return ~np.isfinite(np.atleast_2d(np.asarray(y, dtype=float)))
        st = np.asarray(status)
        if self.suppressed_is_silence:
            return st != OBSERVED
        return (st != OBSERVED) & (st != SUPPRESSED)

    def score(self, missing: np.ndarray) -> DataSilenceResult:
        """Score an ``(R, T)`` bool non-submission mask."""
        m = np.ascontiguousarray(np.asarray(missing, dtype=bool))
        run, lp, alarm = missing_run_path(
            m,
            float(self.prior_missing),
            float(self.prior_submitted),
            float(np.log(self.level)),
            int(self.min_run),
        )
        return DataSilenceResult(self.name, run, lp, alarm, self.level)

    def run(
        self,
        y: np.ndarray,
        n: np.ndarray | None = None,
        expected_rate: np.ndarray | None = None,
        dispersion: float | np.ndarray | None = None,
        status: np.ndarray | None = None,
    ) -> DataSilenceResult:
        """Run on ``(S, T)`` data (only which periods were submitted matters; ``n``/rate unused)."""
        return self.score(self.missing_mask(y, status))


@dataclass(frozen=True)
class WardDataSilenceResult:
    """Whole-ward data silence: ``ward`` (W,) labels and a :class:`DataSilenceResult` over (W, T)."""

    ward: np.ndarray
    result: DataSilenceResult


def ward_data_silence(
    missing: np.ndarray, ward: np.ndarray, detector: DataSilence | None = None
) -> WardDataSilenceResult:
    """Data silence of whole wards: periods in which *none* of a ward's series was submitted.

    Parameters
    ----------
    missing : (S, T) bool
        Non-submission per series (e.g. :meth:`DataSilence.missing_mask`).
    ward : (S,)
        Ward label of each series.
    detector : DataSilence, optional
        Rule (level, minimum run, prior); default settings.
    """
    det = detector or DataSilence()
    miss = np.asarray(missing, dtype=bool)
    labels, codes = np.unique(np.asarray(ward), return_inverse=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(labels.size))
    submitted = np.add.reduceat((~miss[order]).astype(np.int32), bounds, axis=0) if labels.size else miss[:0]
    return WardDataSilenceResult(labels, det.score(submitted == 0))


# --------------------------------------------------------------------------------------------------
# Silence of series that never established themselves, and reporting discontinuities
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerSilenceResult:
    """Peer-referenced silence and reporting resumptions over ``(S, T)`` (all arrays ``(S, T)``).

    Attributes
    ----------
    run_length : int64
        Silent periods in the current run: exposure known, numerator not reported (missing, unknown,
        or suppressed when that counts as silence) while the peers report. Periods without exposure,
        or where the peers are silent too, neither extend nor break the run; a report breaks it.
    exposure : float64
        Exposure (bed days...) summed over the run's periods whose numerator is missing.
    exposure_suppressed : float64
        Exposure summed over the run's suppressed periods (a count below ``suppressed_below`` each).
    expected_count : float64
        Events expected over the run at the series' own rate shrunk to its peers' (posterior mean).
    log_probability : float64
        log P(nothing, or only a suppressed count, to report over the whole run) under that rate and
        its uncertainty (0 when the run is empty): ``a * log(b / (b + exposure))`` for the gamma
        posterior ``Gamma(a, b)`` with no suppressed period, a Chernoff upper bound with them.
    peer_share : float64
        Share of the other series of the peer group with exposure at t that report at t.
    peer_rate : float64
        Leave-one-out pooled rate of the peers' reports up to t (events per unit of exposure).
    own_rate : float64
        The series' own pooled reported rate up to t (NaN before its first report).
    alarm : bool
        ``run_length >= min_run``, ``log_probability < log(level)`` and the peers report at t.
    resumed : bool
        t is a report after at least ``min_gap`` silent periods (or the first report after them).
    ratio_earlier, ratio_peers : float64
        At a resumption: the resumed rate over the series' rate before the gap (NaN when it never
        reported before) and over its peers' rate in the same period (NaN elsewhere).
    resumption_p : float64
        Two-sided predictive tail probability of the resumed count (NaN elsewhere): against the earlier
        level when there is one, else against the peers' distribution of rates.
    discontinuity : bool
        A resumption with ``resumption_p < level_discontinuity`` at a level ``fold`` times or more away
        from the earlier level (or, without one, from the peers').
    """

    run_length: np.ndarray
    exposure: np.ndarray
    exposure_suppressed: np.ndarray
    expected_count: np.ndarray
    log_probability: np.ndarray
    peer_share: np.ndarray
    peer_rate: np.ndarray
    own_rate: np.ndarray
    alarm: np.ndarray
    resumed: np.ndarray
    ratio_earlier: np.ndarray
    ratio_peers: np.ndarray
    resumption_p: np.ndarray
    discontinuity: np.ndarray
    level: float

    @cached_property
    def onset(self) -> np.ndarray:
        """``(S, T)`` int64 first silent period of the current run (``-1`` when none)."""
        return run_onsets(self.run_length)


def run_onsets(run_length: np.ndarray) -> np.ndarray:
    """``(S, T)`` first period of the run counted by ``run_length`` (``-1`` where it is 0).

    Runs may skip periods (neither extended nor broken), so the onset is the last period at which the
    run length was 1, carried forward while the run lasts.
    """
    run = np.asarray(run_length)
    t_idx = np.broadcast_to(np.arange(run.shape[1])[None, :], run.shape)
    start = np.where(run == 1, t_idx, -1)
    start = np.maximum.accumulate(start, axis=1)
    return np.where(run > 0, start, -1)


@dataclass(frozen=True)
class PeerSilence:
    """Data silence judged against the series' peers: needs no baseline of the series' own.

    A series with exposure whose numerator goes unreported while its peers report is tested on one
    question: could it simply have had nothing to report? Its rate ``lambda`` gets a gamma prior from
    its peer group (mean the peers' leave-one-out pooled rate, shape ``1/alpha`` with ``alpha`` the
    squared coefficient of variation of the peers' own rates, from the 10th-90th percentile spread
    of their log rates: the tails, not just the middle, decide how plausible a near-zero rate is), updated by its own reports: ``Gamma(a, b)`` with ``a = 1/alpha + Y_own``,
    ``b = 1/(alpha * rate_peers) + N_own``. The probability of no events at all over the run's
    exposure ``E`` is then exact: ``P = (b / (b + E))^a`` (suppressed periods, a count below 5 each,
    enter through a Chernoff upper bound). The alarm ``P < level`` (run of at least
    ``min_run`` periods, peers reporting) is therefore a test at level ``level`` of each silent run
    of a series whose silence is genuine (nothing happened) and whose rate is like its peers': the
    stated in-control false-alarm rate is at most ``level`` per silent run (checked by simulation in
    tests/detectors/test_silence_peers.py). Everything at t uses data up to t only.

    A resumption (a report after at least ``min_gap`` silent periods) is compared with the series'
    earlier level and its peers' level that month; it is a *reporting discontinuity* when the
    resumed count is improbable (two-sided predictive NB tail ``< level_discontinuity``) and at least
    ``fold`` times away from the earlier level (or, with no earlier level, from the peers').
    """

    level: float = field(
        default=0.001, metadata={"doc": "alarm when P(nothing to report over the run) < level"}
    )
    min_run: int = field(
        default=1,
        metadata={"doc": "never alarm on a silent run shorter than this (periods); the level decides"},
    )
    min_peer_share: float = field(
        default=0.5, metadata={"doc": "peers report at t when at least this share of them with exposure do"}
    )
    min_peers: int = field(default=3, metadata={"doc": "peers with exposure needed at t to judge silence"})
    suppressed_is_silence: bool = field(
        default=True,
        metadata={
            "doc": "suppressed (*) periods extend a silent run (evidence: a count below suppressed_below)"
        },
    )
    suppressed_below: int = field(
        default=5, metadata={"doc": "a suppressed (*) value is a count below this (MHSDS: 5)"}
    )
    min_dispersion: float = field(
        default=0.25,
        metadata={
            "doc": "floor of alpha, the squared CV of rates between peers: rates of restrictive practice "
            "differ several-fold between services, so peers never vouch for a rate within +/-50%"
        },
    )
    max_dispersion: float = field(
        default=4.0, metadata={"doc": "ceiling of alpha (a very heterogeneous peer group)"}
    )
    min_peer_events: float = field(
        default=10.0,
        metadata={"doc": "a peer's rate enters the dispersion estimate once it has this many events"},
    )
    past_silence_as_zero: bool = field(
        default=True,
        metadata={
            "doc": "earlier silent periods count as zero events in the series' own rate (conservative: "
            "a series whose zeros go unwritten would otherwise look busier than it is)"
        },
    )
    min_gap: int = field(default=1, metadata={"doc": "silent periods before a report counts as a resumption"})
    fold: float = field(default=2.0, metadata={"doc": "a discontinuity is at least this many times away"})
    level_discontinuity: float = field(
        default=0.001,
        metadata={"doc": "a discontinuity's two-sided predictive tail probability is below this"},
    )

    name = "peer_silence"

    def __post_init__(self) -> None:
        if not 0 < self.level < 1 or not 0 < self.level_discontinuity < 1:
            raise ValueError("level and level_discontinuity must be between 0 and 1")
        if self.min_run < 1 or self.min_gap < 1 or self.min_peers < 1 or self.suppressed_below < 1:
            raise ValueError("min_run, min_gap, min_peers and suppressed_below must be at least 1")
        if not 0 <= self.min_peer_share <= 1:
            raise ValueError("min_peer_share must be between 0 and 1")
        if not 0 < self.min_dispersion <= self.max_dispersion:
            raise ValueError("need 0 < min_dispersion <= max_dispersion")
        if self.fold <= 1:
            raise ValueError("fold must be above 1")

    def run(
        self,
        y: np.ndarray,
        n: np.ndarray,
        status: np.ndarray,
        group: np.ndarray | None = None,
        whole_history: bool = False,
    ) -> PeerSilenceResult:
        """Run on ``(S, T)`` numerator, exposure (NaN where unknown), status codes and ``(S,)`` peer group.

        ``whole_history=True`` is the retrospective use: the rates and their spread come from every
        period (the series' own reports in other periods included), so a run is judged with hindsight.
        It looks ahead by design and must never feed monitoring output.
        """
        y = np.atleast_2d(np.asarray(y, dtype=float))
        n = np.atleast_2d(np.asarray(n, dtype=float))
        st = np.atleast_2d(np.asarray(status))
        s_count, t_count = y.shape
        codes = np.zeros(s_count, dtype=np.int64) if group is None else _codes(np.asarray(group))
        n_groups = int(codes.max()) + 1 if s_count else 0

        has_exp = (st != MISSING) & np.isfinite(n) & (n > 0)
        reported = has_exp & (st == OBSERVED) & np.isfinite(y)
        if self.suppressed_is_silence:
            silent = has_exp & ~reported
        else:
            silent = has_exp & ~reported & (st != SUPPRESSED)
        evidence = silent & (st != SUPPRESSED)  # missing / unknown: no events at all would explain it

        # peer counts at t, leave-one-out
        e_grp = _group_sum(has_exp.astype(float), codes, n_groups)
        r_grp = _group_sum(reported.astype(float), codes, n_groups)
        e_loo = e_grp[codes] - has_exp
        r_loo = r_grp[codes] - reported
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(e_loo > 0, r_loo / e_loo, np.nan)
        peers_report = (e_loo >= self.min_peers) & (share >= self.min_peer_share)

        # pooled rates: own and peers' (leave-one-out), cumulative up to t; peers' in period t alone
        y_rep = np.where(reported, y, 0.0)
        n_rep = np.where(reported, n, 0.0)
        own_y, own_n = np.cumsum(y_rep, axis=1), np.cumsum(n_rep, axis=1)
        grp_y, grp_n = _group_sum(own_y, codes, n_groups), _group_sum(own_n, codes, n_groups)
        py, pn = grp_y[codes] - own_y, grp_n[codes] - own_n
        ty, tn = _group_sum(y_rep, codes, n_groups), _group_sum(n_rep, codes, n_groups)
        now_y, now_n = ty[codes] - y_rep, tn[codes] - n_rep
        with np.errstate(invalid="ignore", divide="ignore"):
            peer_rate = np.where(pn > 0, py / pn, np.nan)
            peer_now = np.where(now_n > 0, now_y / now_n, np.nan)
            own_rate = np.where(own_n > 0, own_y / own_n, np.nan)
        alpha = self._dispersion(own_y, own_n, codes, n_groups)
        a_post, b_post = _gamma_posterior(alpha, peer_rate, own_y, own_n)
        # posterior at the start of each period (data before t): the resumption test is always
        # against the level before the gap, in both modes
        shape0 = 1.0 / alpha
        a_prev = np.concatenate([shape0[:, :1], a_post[:, :-1]], axis=1)
        b_prev = np.concatenate([b_post[:, :1] - own_n[:, :1], b_post[:, :-1]], axis=1)
        if whole_history and t_count:  # totals of every period, at every period (looks ahead)
            last = (np.repeat(x[:, -1:], t_count, axis=1) for x in (alpha, peer_rate, own_y, own_n))
            a_post, b_post = _gamma_posterior(*last)

        run = np.zeros((s_count, t_count), dtype=np.int64)
        expo = np.zeros((s_count, t_count))  # exposure of the run's missing periods
        expo_sup = np.zeros((s_count, t_count))  # exposure of its suppressed periods
        n_sup = np.zeros((s_count, t_count))  # number of suppressed periods in the run
        resumed = np.zeros((s_count, t_count), dtype=bool)
        own_prev = np.concatenate([np.full((s_count, 1), np.nan), own_rate[:, :-1]], axis=1)
        r_run = np.zeros(s_count, dtype=np.int64)
        r_exp, r_sup, r_nsup = np.zeros(s_count), np.zeros(s_count), np.zeros(s_count)
        total_sil = np.zeros(s_count)  # exposure of every silent (missing) period so far
        sil_before = np.zeros((s_count, t_count))  # ... of those before the current run
        sup = silent & (st == SUPPRESSED)
        for t in range(t_count):  # a loop over periods, vectorised over series
            rep, extend = reported[:, t], silent[:, t] & peers_report[:, t]
            resumed[:, t] = rep & (r_run >= self.min_gap)
            r_run = np.where(rep, 0, r_run + extend)
            r_exp = np.where(rep, 0.0, r_exp + np.where(extend & evidence[:, t], n[:, t], 0.0))
            r_sup = np.where(rep, 0.0, r_sup + np.where(extend & sup[:, t], n[:, t], 0.0))
            r_nsup = np.where(rep, 0.0, r_nsup + (extend & sup[:, t]))
            run[:, t], expo[:, t], expo_sup[:, t], n_sup[:, t] = r_run, r_exp, r_sup, r_nsup
            total_sil += np.where(extend & evidence[:, t], n[:, t], 0.0)
            sil_before[:, t] = total_sil - r_exp
        if self.past_silence_as_zero and not whole_history:
            b_post = b_post + sil_before
        logp = _log_prob_silent(a_post, b_post, expo, expo_sup, n_sup, self.suppressed_below - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = (expo + expo_sup) * a_post / b_post
        alarm = (run >= self.min_run) & (logp < np.log(self.level)) & silent & peers_report

        # resumptions: the resumed count against the earlier level, else the peers' distribution
        with np.errstate(invalid="ignore", divide="ignore"):
            rate_now = np.where(resumed, y / n, np.nan)
            ratio_earlier = np.where(resumed, rate_now / own_prev, np.nan)
            ratio_peers = np.where(resumed, rate_now / peer_now, np.nan)
        p_tail = np.full((s_count, t_count), np.nan)
        idx = np.nonzero(resumed & np.isfinite(b_prev) & (b_prev > 0))
        if idx[0].size:
            a, b = a_prev[idx], b_prev[idx]
            nn, yy = n[idx], y[idx]
            prob = b / (b + nn)  # NB(a, prob): predictive count over exposure nn
            lower = stats.nbinom.cdf(yy, a, prob)
            upper = stats.nbinom.sf(yy - 1, a, prob)
            p_tail[idx] = np.minimum(1.0, 2 * np.minimum(lower, upper))
        ref = np.where(np.isfinite(ratio_earlier), ratio_earlier, ratio_peers)
        far = np.abs(np.log(np.where(ref > 0, ref, np.nan))) >= np.log(self.fold)
        discontinuity = resumed & (p_tail < self.level_discontinuity) & (far | (ref == 0))
        return PeerSilenceResult(
            run_length=run,
            exposure=expo,
            exposure_suppressed=expo_sup,
            expected_count=np.where(run > 0, expected, 0.0),
            log_probability=logp,
            peer_share=share,
            peer_rate=peer_rate,
            own_rate=own_rate,
            alarm=alarm,
            resumed=resumed,
            ratio_earlier=ratio_earlier,
            ratio_peers=ratio_peers,
            resumption_p=p_tail,
            discontinuity=discontinuity,
            level=self.level,
        )

    def _dispersion(
        self, own_y: np.ndarray, own_n: np.ndarray, codes: np.ndarray, n_groups: int
    ) -> np.ndarray:
        """``(S, T)`` alpha of each series' peer group at t: ``exp(sigma^2) - 1`` of the log rates.

        ``sigma`` = (90th - 10th percentile) / 2.563 of the log cumulative rates of the group's series with at least
        ``min_peer_events`` events by t (the series itself included: one of many); clipped to
        ``[min_dispersion, max_dispersion]``; the ceiling where fewer than 3 series qualify.
        A loop over groups (a handful), each vectorised over series and periods.
        """
        out = np.full(own_y.shape, self.max_dispersion)
        enough = own_y >= self.min_peer_events
        with np.errstate(invalid="ignore", divide="ignore"):
            log_rate = np.where(enough & (own_n > 0), np.log(own_y / own_n), np.nan)
        for g in range(n_groups):
            rows = np.nonzero(codes == g)[0]
            lr = log_rate[rows]
            count = np.sum(np.isfinite(lr), axis=0)
            ok = count >= 3
            if not ok.any():
                continue
            with warnings.catch_warnings():  # all-NaN columns are excluded by ``ok``
                warnings.simplefilter("ignore", RuntimeWarning)
                q10, q90 = np.nanquantile(lr[:, ok], [0.1, 0.9], axis=0)
            sigma = (q90 - q10) / _Z90_SPAN
            alpha = np.clip(np.expm1(sigma**2), self.min_dispersion, self.max_dispersion)
            col = np.full(own_y.shape[1], self.max_dispersion)
            col[ok] = alpha
            out[rows] = col
        return out


def _gamma_posterior(
    alpha: np.ndarray, peer_rate: np.ndarray, own_y: np.ndarray, own_n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gamma(a, b) of the series' rate: peers' prior (mean ``peer_rate``, squared CV ``alpha``) + own reports."""
    shape0 = 1.0 / alpha
    with np.errstate(invalid="ignore", divide="ignore"):
        rate0 = shape0 / peer_rate  # prior rate parameter (units of exposure)
    return shape0 + own_y, rate0 + own_n


#: Chernoff parameters tried for the suppressed part of a silent run (0 = ignore it).
_THETAS = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])


def _log_prob_silent(
    a: np.ndarray, b: np.ndarray, e_missing: np.ndarray, e_suppressed: np.ndarray, k: np.ndarray, c: int
) -> np.ndarray:
    """Upper bound on log P(no events in the missing periods, at most ``c`` in each suppressed one).

    Rate ``lambda ~ Gamma(a, b)`` shared by the run. Missing periods: ``P = E[exp(-lambda E_m)]``,
    exact. Suppressed periods enter through the Chernoff bound ``P(Y <= c) <= E[exp(-theta (Y - c))]``
    for any ``theta >= 0``, giving ``(b / (b + E_m + (1 - e^-theta) E_s))^a * exp(theta c k)``
    (``k`` suppressed periods), minimised over a grid of ``theta`` (``theta = 0``: missing part only).
    An upper bound keeps the stated false-alarm rate an upper bound too. 0 where there is no run.
    """
    out = np.zeros(a.shape)
    cells = (e_missing + e_suppressed) > 0
    cells &= np.isfinite(a) & np.isfinite(b) & (b > 0)
    if not cells.any():
        return out
    aa, bb, em, es, kk = a[cells], b[cells], e_missing[cells], e_suppressed[cells], k[cells]
    th = _THETAS[:, None]
    expo = em[None, :] + (1.0 - np.exp(-th)) * es[None, :]
    bound = aa[None, :] * (np.log(bb)[None, :] - np.log(bb[None, :] + expo)) + th * c * kk[None, :]
    out[cells] = np.minimum(bound.min(axis=0), 0.0)
    return out


#: Width of the 10th-90th percentile range of a standard normal (2 x 1.2816).
_Z90_SPAN = 2.5631


def _codes(group: np.ndarray) -> np.ndarray:
    _, codes = np.unique(group.astype(str), return_inverse=True)
    return codes.ravel().astype(np.int64)


def _group_sum(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """``(G, T)`` sums of the ``(S, T)`` rows of each group (a sparse one-hot product)."""
    from scipy import sparse

    s_count = codes.size
    onehot = sparse.csr_matrix(
        (np.ones(s_count), (codes, np.arange(s_count))), shape=(max(n_groups, 1), s_count)
    )
    return np.asarray(onehot @ values)
