"""One entry point for "the ARL of this chart under this shift": :class:`ChartSpec`.

Used by the ``wardwatch arl`` / ``wardwatch calibrate`` commands and by anything that needs to
dispatch on a chart description. Each (chart, family) pair goes to the most exact method:

=========  =========  ==============================================  ============
chart      family     parameters                                      method
=========  =========  ==============================================  ============
shewhart   normal     ``L``                                           closed_form
cusum      normal     ``k, h`` (σ units)                              integral
cusum      poisson    ``mu0``, ``k`` or ``rate_ratio``, ``h`` (counts)   markov
cusum      binomial   ``p0, n``, ``k`` or ``odds_ratio``, ``h`` (events) markov
cusum      negbin     ``mu0, alpha, rate_ratio``, ``h`` (LLR scale)     simulation
ewma       normal     ``lam, L``                                      integral
=========  =========  ==============================================  ============

Shifts: normal — ``shift`` δ in σ units; poisson/negbin — true mean ``mu`` per period, or
``shift`` as a rate ratio (``mu = shift·mu0``); binomial — true ``p``, or ``shift`` as an odds ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import lcm
from typing import Literal

import numpy as np
from scipy.stats import binom, poisson

from engine.arl import calibrate as cal
from engine.arl.ewma import ewma_arl
from engine.arl.lattice import (
    DiscreteDistribution,
    Signal,
    binomial_reference_value,
    count_cusum_arl,
    lattice_denominator,
    odds_ratio_to_p,
    poisson_reference_value,
    round_to_lattice,
    two_sided_count_cusum_arl,
)
from engine.arl.negbin import nb_cusum_arl_simulated, nb_llr_increment, nb_sampler
from engine.arl.normal_cusum import normal_cusum_arl
from engine.arl.results import ArlResult, ArlSettings, CalibrationResult
from engine.arl.shewhart import shewhart_arl

Chart = Literal["shewhart", "cusum", "ewma"]
Family = Literal["normal", "poisson", "binomial", "negbin"]


class SpecError(ValueError):
    """An impossible or incomplete chart description (bad parameter combination)."""


@dataclass(frozen=True)
class ChartSpec:
    """A chart whose run length is wanted. ``None`` means "not given" (defaults noted)."""

    chart: Chart = field(default="cusum", metadata={"doc": "chart type"})
    family: Family = field(
        default="normal",
        metadata={"doc": "data family (shewhart/ewma: normal only; negbin: cusum, by simulation)"},
    )
    sided: Literal["one", "two"] = field(
        default="two", metadata={"doc": "one chart (in direction) or both directions"}
    )
    direction: Literal["up", "down"] = field(default="up", metadata={"doc": "direction of a one-sided chart"})
    k: float | None = field(
        default=None,
        metadata={"doc": "CUSUM reference value (σ units, normal default 0.5; events per period for counts)"},
    )
    k_down: float | None = field(
        default=None, metadata={"doc": "reference value of the lower chart (two-sided count CUSUM)"}
    )
    h: float | None = field(
        default=None,
        metadata={"doc": "CUSUM decision interval (σ units; events for poisson/binomial; LLR for negbin)"},
    )
    lam: float | None = field(default=None, metadata={"doc": "EWMA smoothing constant λ in (0, 1]"})
    L: float | None = field(default=None, metadata={"doc": "EWMA/Shewhart limit multiplier (σ)"})
    mu0: float | None = field(
        default=None,
        metadata={"doc": "in-control mean per period (counts; normal: in-control mean, default 0)"},
    )
    sigma: float = field(default=1.0, metadata={"doc": "standard deviation of normal observations"})
    rate_ratio: float | None = field(
        default=None,
        metadata={"doc": "design rate ratio μ1/μ0 (poisson: sets k; negbin: the LLR alternative)"},
    )
    p0: float | None = field(default=None, metadata={"doc": "in-control probability (binomial)"})
    n: int = field(default=1, metadata={"doc": "trials per period (binomial; 1 = Bernoulli, ARL in trials)"})
    odds_ratio: float | None = field(default=None, metadata={"doc": "design odds ratio (binomial: sets k)"})
    alpha: float | None = field(default=None, metadata={"doc": "negative-binomial dispersion, Var = μ + αμ²"})
    signal: Literal["geq", "gt"] = field(
        default="geq", metadata={"doc": "count CUSUM signal rule: S >= h (Lucas) or S > h"}
    )
    head_start: float = field(default=0.0, metadata={"doc": "CUSUM start value (FIR)"})
    m: int = field(
        default=20, metadata={"doc": "lattice 1/m used to round a derived count reference value k"}
    )
    method: Literal["auto", "integral", "markov", "simulation"] = field(
        default="auto",
        metadata={"doc": "force the integral-equation or Markov-chain method (normal CUSUM, EWMA)"},
    )

    # -- derived design values -------------------------------------------------------------
    def design_rate_ratio(self) -> float:
        """Design rate ratio oriented with ``direction`` (> 1 for "up", < 1 for "down")."""
        if self.rate_ratio is None or self.rate_ratio <= 0 or self.rate_ratio == 1:
            raise SpecError("--rr must be positive and different from 1")
        r = max(self.rate_ratio, 1.0 / self.rate_ratio)
        return r if self.direction == "up" else 1.0 / r

    def reference_values(self) -> tuple[float, float]:
        """(k for the upper chart, k for the lower chart) on the count scale, rounded to 1/m."""
        if self.k is not None:
            k_up = self.k
            k_dn = self.k_down if self.k_down is not None else self.k
            return k_up, k_dn
        if self.family == "poisson":
            if self.mu0 is None or self.rate_ratio is None:
                raise SpecError("a Poisson CUSUM needs --k, or --mu0 and --rr (design rate ratio)")
            r = self.rate_ratio if self.rate_ratio > 1 else 1.0 / self.rate_ratio
            up = poisson_reference_value(self.mu0, self.mu0 * r)
            dn = poisson_reference_value(self.mu0, self.mu0 / r)
        elif self.family == "binomial":
            if self.p0 is None or self.odds_ratio is None:
                raise SpecError("a binomial CUSUM needs --k, or --p0 and --or (design odds ratio)")
            r = self.odds_ratio if self.odds_ratio > 1 else 1.0 / self.odds_ratio
            up = binomial_reference_value(self.p0, r, self.n)
            dn = binomial_reference_value(self.p0, 1.0 / r, self.n)
        else:
            raise SpecError(f"no derived reference value for family {self.family}")
        return round_to_lattice(up, self.m), round_to_lattice(dn, self.m)

    def validate(self) -> None:
        """Raise :class:`SpecError` for impossible combinations."""
        allowed = {
            "shewhart": {"normal"},
            "ewma": {"normal"},
            "cusum": {"normal", "poisson", "binomial", "negbin"},
        }
        if self.family not in allowed[self.chart]:
            raise SpecError(
                f"--chart {self.chart} supports --family {'/'.join(sorted(allowed[self.chart]))} only"
            )
        if self.chart == "shewhart" and self.L is None:
            raise SpecError("a Shewhart chart needs --L (limit multiplier)")
        if self.chart == "ewma" and (self.lam is None or self.L is None):
            raise SpecError("an EWMA chart needs --lambda and --L")
        if self.chart == "cusum" and self.h is None:
            raise SpecError("a CUSUM needs --h (decision interval)")
        if self.family == "poisson" and self.mu0 is None:
            raise SpecError("a Poisson CUSUM needs --mu0 (in-control mean per period)")
        if self.family == "binomial" and self.p0 is None:
            raise SpecError("a binomial CUSUM needs --p0 (in-control probability)")
        if self.family == "negbin" and (self.mu0 is None or self.alpha is None or self.rate_ratio is None):
            raise SpecError("a negative-binomial CUSUM needs --mu0, --alpha and --rr")
        if self.family == "negbin" and self.sided == "two":
            raise SpecError("the negative-binomial CUSUM is one-sided: use --sided one")
        if self.sided == "two" and self.head_start and self.family == "normal":
            raise SpecError(
                "two-sided normal CUSUM ARL with a head start cannot be combined from one-sided ARLs"
            )

    # -- shifts ------------------------------------------------------------------------------
    def true_parameter(
        self, shift: float | None = None, mu: float | None = None, p: float | None = None
    ) -> float:
        """δ (normal, σ units), true mean per period (poisson/negbin) or true p (binomial)."""
        given = sum(v is not None for v in (shift, mu, p))
        if given > 1:
            raise SpecError("give at most one of --shift, --mu, --p")
        if self.family == "normal":
            if p is not None:
                raise SpecError("--p applies to the binomial family only")
            if mu is not None:
                return (mu - (self.mu0 or 0.0)) / self.sigma
            return 0.0 if shift is None else shift
        if self.family in ("poisson", "negbin"):
            if p is not None:
                raise SpecError("--p applies to the binomial family only")
            assert self.mu0 is not None
            if mu is not None:
                if mu <= 0:
                    raise SpecError("--mu must be positive")
                return mu
            return self.mu0 * (1.0 if shift is None else shift)
        assert self.p0 is not None
        if mu is not None:
            raise SpecError("for the binomial family give --p (true probability) or --shift (odds ratio)")
        if p is not None:
            return p
        return self.p0 if shift is None else odds_ratio_to_p(self.p0, shift)


def chart_arl(
    spec: ChartSpec,
    shift: float | None = None,
    mu: float | None = None,
    p: float | None = None,
    settings: ArlSettings | None = None,
) -> ArlResult:
    """ARL (periods) of ``spec`` when the process is at the given shift (default: in control)."""
    spec.validate()
    st = settings or ArlSettings()
    theta = spec.true_parameter(shift, mu, p)
    if spec.chart == "shewhart":
        assert spec.L is not None  # spec.validate()
        return shewhart_arl(spec.L, theta, spec.sided)
    if spec.chart == "ewma":
        method = "integral" if spec.method == "auto" else spec.method
        if method not in ("integral", "markov"):
            raise SpecError("EWMA ARL methods: integral or markov")
        delta = theta if spec.sided == "two" or spec.direction == "up" else -theta
        assert spec.lam is not None and spec.L is not None  # spec.validate()
        return ewma_arl(
            spec.lam,
            spec.L,
            delta,
            spec.sided,
            method=method,
            nodes=st.ewma_nodes,
            states=st.markov_states + 1,
        )
    assert spec.h is not None
    if spec.family == "normal":
        method = "integral" if spec.method == "auto" else spec.method
        if method not in ("integral", "markov"):
            raise SpecError("normal CUSUM ARL methods: integral or markov")
        k = 0.5 if spec.k is None else spec.k
        delta = theta if spec.sided == "two" or spec.direction == "up" else -theta
        return normal_cusum_arl(
            k, spec.h, delta, spec.sided, spec.head_start, method, st.cusum_nodes, st.markov_states
        )
    if spec.family == "negbin":
        assert spec.mu0 is not None and spec.alpha is not None and spec.rate_ratio is not None
        return nb_cusum_arl_simulated(
            spec.mu0,
            spec.alpha,
            spec.design_rate_ratio(),
            spec.h,
            theta,
            st.replicates,
            st.seed,
            st.max_periods,
        )
    dist = poisson(theta) if spec.family == "poisson" else binom(spec.n, theta)
    k_up, k_dn = spec.reference_values()
    try:
        if spec.sided == "one":
            k = k_up if spec.direction == "up" else k_dn
            return count_cusum_arl(dist, k, spec.h, spec.direction, spec.signal, spec.head_start)
        return two_sided_count_cusum_arl(
            dist, k_up, spec.h, k_dn, spec.h, spec.signal, spec.head_start, spec.head_start
        )
    except ValueError as exc:
        raise SpecError(str(exc)) from exc


def chart_calibrate(
    spec: ChartSpec, target_arl0: float, settings: ArlSettings | None = None
) -> CalibrationResult:
    """Threshold of ``spec`` (``h`` for a CUSUM, ``L`` for Shewhart/EWMA) giving ARL0 = target.

    The threshold field of ``spec`` is ignored. Count CUSUMs return the smallest ``h`` on the
    ``1/m`` grid with ARL0 >= target (lattice of ``k`` and ``m``).
    """
    st = settings or ArlSettings()
    if target_arl0 <= 2:
        raise SpecError("--target-arl must exceed 2 periods")
    if spec.chart == "shewhart":
        spec = replace(spec, L=3.0)
        spec.validate()
        return cal.shewhart_limit(target_arl0, spec.sided)
    if spec.chart == "ewma":
        spec = replace(spec, L=3.0)
        spec.validate()
        assert spec.lam is not None
        return cal.ewma_L(spec.lam, target_arl0, spec.sided)
    spec = replace(spec, h=1.0)
    spec.validate()
    if spec.family == "normal":
        k = 0.5 if spec.k is None else spec.k
        return cal.normal_cusum_h(k, target_arl0, spec.sided)
    if spec.family == "negbin":
        assert spec.mu0 is not None and spec.alpha is not None and spec.rate_ratio is not None
        kappa = float(np.log(spec.design_rate_ratio()))
        mu0, alpha = spec.mu0, spec.alpha
        return cal.calibrate_threshold_simulated(
            lambda h: _nb_detector(mu0, alpha, kappa, h),
            nb_sampler(mu0, alpha),
            target_arl0,
            0.5,
            4.0,
            replicates=min(st.replicates, 4_000),
            seed=st.seed,
            xtol=0.01,
        )
    theta = spec.true_parameter()
    dist = poisson(theta) if spec.family == "poisson" else binom(spec.n, theta)
    k_up, k_dn = spec.reference_values()
    try:
        if spec.sided == "one":
            k = k_up if spec.direction == "up" else k_dn
            m = lcm(spec.m, lattice_denominator(k))
            return cal.count_cusum_h(dist, k, target_arl0, m, spec.direction, spec.signal)
        return _two_sided_count_h(dist, k_up, k_dn, target_arl0, spec.signal, spec.m)
    except ValueError as exc:
        raise SpecError(str(exc)) from exc


def _nb_detector(mu0: float, alpha: float, kappa: float, h: float):
    from engine.arl.kernels import cusum_alarms

    return lambda x: cusum_alarms(nb_llr_increment(x, mu0, alpha, kappa), h, "gt")


def _two_sided_count_h(
    dist: DiscreteDistribution, k_up: float, k_dn: float, target: float, signal: Signal, grid: int
) -> CalibrationResult:
    """Smallest common ``h`` on the ``1/m`` grid of a two-sided count CUSUM with exact ARL0 >= target."""
    m = lcm(grid, lattice_denominator(k_up, k_dn))

    def arl(H: int) -> float:
        return two_sided_count_cusum_arl(dist, k_up, H / m, k_dn, H / m, signal, m=m).arl

    lo, hi = 1, 2
    if arl(lo) >= target:
        return CalibrationResult(lo / m, arl(lo), target, "markov")
    while arl(hi) < target:
        lo, hi = hi, 2 * hi
        if hi > 200 * m:
            raise ValueError("target ARL0 not reached below h = 200")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if arl(mid) >= target:
            hi = mid
        else:
            lo = mid
    return CalibrationResult(hi / m, arl(hi), target, "markov")
