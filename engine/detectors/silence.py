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

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from engine.contract.observations import MISSING, OBSERVED, SUPPRESSED
from engine.detectors import scores
from engine.detectors._kernels import missing_run_path, zero_run_path
from engine.detectors._peer_kernel import THETAS, peer_silence_path
from engine.detectors.base import PanelDetector


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
class Silence(PanelDetector[SilenceResult]):
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

    def _run_checked(
        self, y: np.ndarray, n: np.ndarray, r: np.ndarray, dispersion: float | np.ndarray | None
    ) -> SilenceResult:
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
    run_length : int32
        Silent periods in the current run: exposure known, numerator not reported (missing, unknown,
        or suppressed when that counts as silence) while the peers report. Periods without exposure,
        or where the peers are silent too, neither extend nor break the run; a report breaks it.
    exposure : float32
        Exposure (bed days...) summed over the run's periods whose numerator is missing.
    expected_count : float32
        Events expected over the run at the series' own rate shrunk to its peers' (posterior mean).
    log_probability : float32
        log P(nothing, or only a suppressed count, to report over the whole run) under that rate and
        its uncertainty (0 when the run is empty): ``a * log(b / (b + exposure))`` for the gamma
        posterior ``Gamma(a, b)`` with no suppressed period, a Chernoff upper bound with them.
    alarm : bool
        ``run_length >= min_run``, ``log_probability < log(level)`` and the peers report at t.
    resumed : bool
        t is a report after at least ``min_gap`` silent periods (or the first report after them).
    ratio_earlier, ratio_peers : float32
        At a resumption: the resumed rate over the series' rate before the gap (NaN when it never
        reported before) and over its peers' rate in the same period (NaN elsewhere).
    resumption_p : float32
        Two-sided predictive tail probability of the resumed count (NaN elsewhere) under the
        series' rate before the gap shrunk to its peers' (the peers' distribution alone when it
        never reported).
    discontinuity : bool
        A resumption with ``resumption_p < level_discontinuity`` at a level ``fold`` times or more away
        from the earlier level (or, without one, from the peers').
    """

    run_length: np.ndarray
    exposure: np.ndarray
    expected_count: np.ndarray
    log_probability: np.ndarray
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
    stated in-control false-alarm rate is at most ``level`` per run opportunity (exact for a series
    with no history of its own; earlier silent periods count as zeros in its own rate, which keeps
    later runs conservative). Simulated (tests/detectors/test_silence_peers.py: 20,000 series x 24
    months, ~1.2 events a month, zeros written as missing, alpha 0.5): 0.8% of never-established
    series alarm from their start at level 1%; 0.002 alarmed runs per series-year at level 0.001
    (the default). Everything at t uses data up to t only (truncation tests).

    A resumption (a report after at least ``min_gap`` silent periods) is compared with the series'
    earlier level and its peers' level that month; it is a *reporting discontinuity* when the
    resumed count is improbable (two-sided predictive NB tail ``< level_discontinuity``) and at least
    ``fold`` times away from the earlier level (or, with no earlier level, from the peers').
    """

    level: float = field(
        default=0.001, metadata={"doc": "alarm when P(nothing to report over the run) < level"}
    )
    min_run: int = field(
        default=3,
        metadata={"doc": "never alarm on a silent run shorter than this (periods of a weekly series)"},
    )
    min_run_monthly: int = field(
        default=1,
        metadata={"doc": "the same for a monthly series (a month is already a long gap; the level decides)"},
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

    def for_cadence(self, cadence: str) -> PeerSilence:
        """This detector with the minimum run of ``cadence`` (``weekly`` or ``monthly``)."""
        return dataclasses.replace(self, min_run=self.min_run_monthly) if cadence == "monthly" else self

    def __post_init__(self) -> None:
        if not 0 < self.level < 1 or not 0 < self.level_discontinuity < 1:
            raise ValueError("level and level_discontinuity must be between 0 and 1")
        if (
            self.min_run < 1
            or self.min_run_monthly < 1
            or self.min_gap < 1
            or self.min_peers < 1
            or self.suppressed_below < 1
        ):
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
        y = np.ascontiguousarray(np.atleast_2d(np.asarray(y, dtype=np.float64)))
        n = np.ascontiguousarray(np.atleast_2d(np.asarray(n, dtype=np.float64)))
        st = np.ascontiguousarray(np.atleast_2d(np.asarray(status, dtype=np.int8)))
        s_count = y.shape[0]
        codes = np.zeros(s_count, dtype=np.int64) if group is None else _codes(np.asarray(group))
        n_groups = int(codes.max()) + 1 if s_count else 1
        # the peer group's sums, (G, T): all the kernel needs besides each series' own cells
        has_exp = (st != MISSING) & np.isfinite(n) & (n > 0)
        reported = has_exp & (st == OBSERVED) & np.isfinite(y)
        y_rep = np.where(reported, y, 0.0)
        n_rep = np.where(reported, n, 0.0)
        e_grp = _group_sum(has_exp, codes, n_groups)
        r_grp = _group_sum(reported, codes, n_groups)
        now_gy = _group_sum(y_rep, codes, n_groups)
        now_gn = _group_sum(n_rep, codes, n_groups)
        cum_gy, cum_gn = np.cumsum(now_gy, axis=1), np.cumsum(now_gn, axis=1)
        alpha_g = self._dispersion(y_rep, n_rep, codes, n_groups)
        del has_exp, reported, y_rep, n_rep
        out = peer_silence_path(
            y, n, st, codes, e_grp, r_grp, cum_gy, cum_gn, now_gy, now_gn, alpha_g,
            float(self.min_peers), float(self.min_peer_share), bool(self.suppressed_is_silence),
            float(self.suppressed_below - 1), THETAS, float(np.log(self.level)), int(self.min_run),
            int(self.min_gap), float(self.fold), float(self.level_discontinuity),
            bool(self.past_silence_as_zero), bool(whole_history),
        )  # fmt: skip
        run, expo, expected, logp, alarm, resumed, r_earlier, r_peers, p_value, disc = out
        return PeerSilenceResult(
            run_length=run,
            exposure=expo,
            expected_count=expected,
            log_probability=logp,
            alarm=alarm,
            resumed=resumed,
            ratio_earlier=r_earlier,
            ratio_peers=r_peers,
            resumption_p=p_value,
            discontinuity=disc,
            level=self.level,
        )

    def _dispersion(
        self, y_rep: np.ndarray, n_rep: np.ndarray, codes: np.ndarray, n_groups: int
    ) -> np.ndarray:
        """``(G, T)`` alpha of each peer group at t: ``exp(sigma^2) - 1`` of its series' log rates.

        ``sigma`` = (90th - 10th percentile) / 2.563 of the log cumulative reported rates of the
        group's series with at least ``min_peer_events`` events by t (each series one of many);
        clipped to ``[min_dispersion, max_dispersion]``; the ceiling where fewer than 3 qualify.
        A loop over groups (a handful), each vectorised over its series and periods.
        """
        out = np.full((n_groups, y_rep.shape[1]), self.max_dispersion)
        for g in range(n_groups):
            rows = np.nonzero(codes == g)[0]
            cy, cn = np.cumsum(y_rep[rows], axis=1), np.cumsum(n_rep[rows], axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                lr = np.where((cy >= self.min_peer_events) & (cn > 0), np.log(cy / cn), np.nan)
            count = np.sum(np.isfinite(lr), axis=0)
            ok = count >= 3
            if not ok.any():
                continue
            q10, q90 = _column_quantiles(lr[:, ok], count[ok], (0.1, 0.9))
            sigma = (q90 - q10) / _Z90_SPAN
            out[g, ok] = np.clip(np.expm1(sigma**2), self.min_dispersion, self.max_dispersion)
        return out


#: Width of the 10th-90th percentile range of a standard normal (2 x 1.2816).
_Z90_SPAN = 2.5631


def _column_quantiles(x: np.ndarray, count: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Per column, the quantiles (linear interpolation, as ``np.nanquantile``) of its finite values.

    ``count`` is the number of finite values of each column (at least 1). One sort of all columns
    at once (NaN sorts last), then the order statistics are picked: much faster than nanquantile.
    """
    srt = np.sort(x, axis=0)
    cols = np.arange(x.shape[1])
    out = []
    for q in qs:
        pos = q * (count - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, count - 1)
        frac = pos - lo
        out.append(srt[lo, cols] * (1 - frac) + srt[hi, cols] * frac)
    return out


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
    return np.asarray(onehot @ np.asarray(values, dtype=np.float64))
