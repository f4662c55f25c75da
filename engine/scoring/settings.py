"""Settings of the scoring pipeline: per-indicator detectors and the ward-level combination."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Direction a closed culture moves each two-sided ("both") indicator, for the domain evidence.
#: Incident reporting and speaking up fall silent; safeguarding and sexual-safety reports rise
#: (concealment scenario: injuries and safeguarding up while incident reporting drops).
DEFAULT_CLOSURE_DIRECTION: dict[str, str] = {
    "incidents_reported": "down",
    "ftsu_concerns": "down",
    "safeguarding_referrals": "up",
    "sexual_safety_incidents": "up",
}


@dataclass(frozen=True)
class IndicatorSettings:
    """Per-indicator settings (``[indicators.<key>]`` in the configuration file)."""

    enabled: bool = field(default=True, metadata={"doc": "score this indicator at all"})
    detector: Literal["cusum", "ewma"] = field(
        default="cusum", metadata={"doc": "detector that raises indicator alerts: cusum (default) or ewma"}
    )
    rate_ratio_up: float = field(
        default=1.5, metadata={"doc": "design rate ratio of a rise (counts, measures)"}
    )
    rate_ratio_down: float = field(
        default=0.5, metadata={"doc": "design rate ratio of a fall (counts, measures)"}
    )
    odds_ratio_up: float = field(default=1.6, metadata={"doc": "design odds ratio of a rise (proportions)"})
    odds_ratio_down: float = field(default=0.6, metadata={"doc": "design odds ratio of a fall (proportions)"})
    threshold: float | None = field(
        default=None, metadata={"doc": "CUSUM threshold in nats; unset = combination.cusum_threshold"}
    )
    closure_direction: Literal["up", "down"] | None = field(
        default=None,
        metadata={"doc": "direction a closed culture moves it (domain evidence); unset = catalogue/default"},
    )
    weight: float = field(default=1.0, metadata={"doc": "weight of its evidence in its domain's joint CUSUM"})

    def __post_init__(self) -> None:
        if self.rate_ratio_up <= 1 or self.odds_ratio_up <= 1:
            raise ValueError("rate_ratio_up and odds_ratio_up must be above 1")
        if not 0 < self.rate_ratio_down < 1 or not 0 < self.odds_ratio_down < 1:
            raise ValueError("rate_ratio_down and odds_ratio_down must be between 0 and 1")
        if self.weight < 0:
            raise ValueError("weight must not be negative")


@dataclass(frozen=True)
class CombinationSettings:
    """Ward-level combination and alerting (``[combination]``); thresholds in nats (log-LR units).

    The default ``concern_rule`` (balanced), ``concern_threshold`` (5.25), ``watch_threshold`` (3.0)
    and ``urgent_threshold`` (6.75) were chosen by measurement with ``wardwatch evaluate`` so that
    one configuration keeps, on the default benchmark (``wardwatch synth --wards 300 --weeks 156
    --seed 7``) and in the median cell of the robustness grid (24 cells of 100-ward trusts), at most
    0.1 measured false ``concern`` alerts per ward-year (0.026 and 0.088; 0.045-0.147 over the
    cells), at most 10% of ward-level decoys escalated, and ``watch`` at most 5% of in-control
    ward-weeks and 0.5 openings per ward-year (docs/combination.md, "Default thresholds"). The
    false-alarm rate of one threshold differs from trust to trust by a factor of two to three: run
    ``calibrate-alerts`` on a trust's own data. (Before: the second-largest domain at 4.0 nats,
    calibrated by ``calibrate-alerts`` on the benchmark before the gated provider factor; 0.042 on
    the benchmark, 0.109 in the median cell, above 0.1 in 16 of 24 cells.)
    """

    cusum_threshold: float = field(
        default=7.0, metadata={"doc": "per-indicator CUSUM threshold (indicator alerts, level watch)"}
    )
    domain_threshold: float | None = field(
        default=None,
        metadata={"doc": "one domain at or above this: watch (unset = a single domain never raises watch)"},
    )
    watch_threshold: float | None = field(
        default=3.0,
        metadata={
            "doc": "constellation strength (concern_rule) at or above this: watch (the constellation "
            "forming; calibrated like concern, see docs/combination.md)"
        },
    )
    watch_on_indicator_alerts: bool = field(
        default=False,
        metadata={
            "doc": "a single indicator alert (CUSUM, silence, data silence) also raises the ward to watch "
            "(off: indicator alerts stay indicator alerts in the inbox)"
        },
    )
    concern_rule: Literal["balanced", "second", "top_two", "capped_sum", "gated_total"] = field(
        default="balanced",
        metadata={
            "doc": "how the culture domains combine into the constellation strength compared with the "
            "watch and concern thresholds: balanced (the largest h with sum_d min(D_d, balance h) >= 2h; "
            "equals the second-largest domain when two domains moved), second (the second-largest "
            "domain), top_two (largest + second-largest, second at least concern_floor) or capped_sum "
            "(sum_d min(D_d, concern_cap)) or gated_total (one window-limited CUSUM over every culture "
            "indicator, counted while the second-largest domain is at least concern_gate); see "
            "docs/combination.md"
        },
    )
    concern_balance: float = field(
        default=1.0,
        metadata={
            "doc": "balanced rule: the strongest domain counts up to this multiple of the threshold "
            "(1 to 2, 1 = no more than any other domain)"
        },
    )
    concern_floor: float = field(
        default=2.5, metadata={"doc": "top_two rule: the second-largest domain must reach this (nats)"}
    )
    concern_cap: float = field(
        default=5.0, metadata={"doc": "capped_sum rule: each domain counts up to this (nats)"}
    )
    concern_gate: float = field(
        default=3.0,
        metadata={
            "doc": "gated_total rule: the all-indicator total counts only while the second-largest "
            "domain is at least this (nats; 3.0 keeps single-domain decoys within 10%; with the rule set "
            "concern_threshold on the total's scale, about 1.125, see docs/combination.md)"
        },
    )
    concern_threshold: float = field(
        default=5.25,
        metadata={"doc": "constellation strength (concern_rule) at or above this: concern"},
    )
    urgent_threshold: float = field(
        default=6.75, metadata={"doc": "concern and restrictive practice or harm at or above this: urgent"}
    )
    silence_level: float = field(
        default=0.001, metadata={"doc": "silence alarm when P(current run of zeros) is below this"}
    )
    data_silence_level: float = field(
        default=0.001, metadata={"doc": "data-silence alarm when P(gap this long | history) is below this"}
    )
    data_silence_min_run: int = field(
        default=3, metadata={"doc": "never alarm on a data gap shorter than this"}
    )
    close_after: int = field(
        default=4, metadata={"doc": "an alert closes after its condition has been absent this many periods"}
    )
    provider_adjustment: bool = field(
        default=True, metadata={"doc": "remove changes common to most wards of a provider (provider_method)"}
    )
    provider_method: Literal["gated", "leave_one_out"] = field(
        default="gated",
        metadata={
            "doc": "gated: a trimmed leave-one-out factor applied only while a shift is broad and "
            "simultaneous (deteriorating minorities are not absorbed); leave_one_out: always on"
        },
    )
    provider_window: int = field(
        default=4,
        metadata={"doc": "periods of each ward's trailing level ratio (gate of the provider factor)"},
    )
    provider_gate_share: float = field(
        default=0.5,
        metadata={
            "doc": "share of a provider's wards that must have moved the same way, within one window, "
            "for its provider factor to apply"
        },
    )
    provider_trim: float = field(
        default=0.25,
        metadata={"doc": "share of wards dropped at each end (by level ratio) from the provider factor"},
    )
    provider_kappa: float = field(
        default=5.0, metadata={"doc": "shrinkage of the provider factor towards 1, in expected events"}
    )
    provider_min_wards: int = field(default=3, metadata={"doc": "wards needed for a provider-wide alert"})
    provider_share: float = field(
        default=0.6,
        metadata={
            "doc": "share of the provider's wards that must have moved the same way for a provider alert"
        },
    )
    provider_min_ratio: float = field(
        default=1.25,
        metadata={
            "doc": "pooled observed/expected ratio (or its inverse for falls) a provider-wide shift must reach"
        },
    )
    provider_threshold: float = field(
        default=6.0, metadata={"doc": "standardised CUSUM threshold (h, k=0.5) of the pooled provider chart"}
    )
    target_false_concern_per_ward_year: float = field(
        default=0.1, metadata={"doc": "calibration target: false concern alerts per ward per year"}
    )
    target_watch_share: float = field(
        default=0.05, metadata={"doc": "calibration target: in-control share of ward-weeks at watch or above"}
    )
    target_false_watch_per_ward_year: float = field(
        default=0.5, metadata={"doc": "calibration target: false watch openings per ward per year"}
    )
    target_decoy_escalation: float = field(
        default=0.1,
        metadata={
            "doc": "calibration target: share of simulated single-domain changes escalating to concern"
        },
    )
    calibration_decoy_share: float = field(
        default=0.2, metadata={"doc": "share of wards given a simulated single-domain change per replicate"}
    )
    calibration_decoy_ratio: float = field(
        default=1.5,
        metadata={"doc": "rate ratio of a simulated single-domain change (its inverse for a fall)"},
    )
    calibration_decoy_weeks: int = field(
        default=12, metadata={"doc": "length in weeks of a simulated single-domain change"}
    )
    target_false_indicator_alerts_per_ward_year: float = field(
        default=1.0, metadata={"doc": "calibration target: false indicator alerts per ward per year"}
    )
    calibration_replicates: int = field(
        default=10, metadata={"doc": "in-control replicates of the whole trust drawn by calibrate-alerts"}
    )
    calibration_seed: int = field(default=20261122, metadata={"doc": "seed of the calibration simulation"})
    measure_min_dispersion: float = field(
        default=1.0,
        metadata={
            "doc": "floor of the quasi-Poisson scale phi of measures (hours): a warm-up of nearly all zeros "
            "otherwise estimates phi near 0 and turns one long seclusion into thousands of nats"
        },
    )
    max_explained_indicators: int = field(
        default=5, metadata={"doc": "indicator sentences in an explanation"}
    )
    evidence: Literal["design", "adaptive"] = field(
        default="adaptive",
        metadata={
            "doc": "domain evidence per indicator: design (LLR of the fixed design shift) or adaptive "
            "(LLR of the shift estimated from earlier weeks, Sparks 2000; see docs/combination.md)"
        },
    )
    adaptive_lambda: float = field(
        default=0.1, metadata={"doc": "adaptive evidence: EWMA weight of each period in the shift estimate"}
    )
    adaptive_min_ratio: float = field(
        default=1.5,
        metadata={
            "doc": "adaptive evidence: smallest rate ratio used, the floor of the estimated shift (its "
            "inverse for a fall)"
        },
    )
    adaptive_max_ratio: float = field(
        default=4.0, metadata={"doc": "adaptive evidence: largest rate ratio used (its inverse for a fall)"}
    )
    adaptive_prior_events: float = field(
        default=2.0,
        metadata={"doc": "adaptive evidence: expected events at the design ratio that start the estimate"},
    )
    adaptive_proportion_scale: Literal["probability", "odds"] = field(
        default="probability",
        metadata={
            "doc": "adaptive evidence for proportions: the estimated shift multiplies the probability "
            "(probability) or the odds (odds: a fall in a high proportion such as supervision held is "
            "a rise in the shortfall; see docs/combination.md)"
        },
    )
    domain_rule: Literal["joint", "mei", "mixture", "onset_mixture"] = field(
        default="joint",
        metadata={
            "doc": "domain statistic: joint (CUSUM of summed increments), mei (sum of per-indicator "
            "CUSUMs), mixture (sum of log(1 - p0 + p0 exp(CUSUM)) per indicator) or onset_mixture "
            "(the same mixture over the indicators' sums from one common onset in the window, Xie & "
            "Siegmund 2013)"
        },
    )
    domain_window: int = field(
        default=52,
        metadata={
            "doc": "joint rule: evidence older than this many weeks is forgotten (window-limited CUSUM, "
            "Lai 1995); 0 = Page's CUSUM without limit"
        },
    )
    mixture_p0: float = field(
        default=0.3,
        metadata={"doc": "mixture and onset_mixture rules: prior share of a domain's indicators that move"},
    )

    def __post_init__(self) -> None:
        if not self.concern_threshold <= self.urgent_threshold:
            raise ValueError("urgent_threshold must be at least concern_threshold")
        if self.close_after < 1:
            raise ValueError("close_after must be at least 1")
        if not 0 < self.silence_level < 1 or not 0 < self.data_silence_level < 1:
            raise ValueError("silence levels must be between 0 and 1")
        if not 0 < self.adaptive_lambda <= 1:
            raise ValueError("adaptive_lambda must be in (0, 1]")
        if not 1 < self.adaptive_min_ratio <= self.adaptive_max_ratio:
            raise ValueError("adaptive ratios must satisfy 1 < adaptive_min_ratio <= adaptive_max_ratio")
        if self.adaptive_prior_events <= 0:
            raise ValueError("adaptive_prior_events must be positive")
        if not 1 <= self.concern_balance < 2:
            raise ValueError("concern_balance must be in [1, 2)")
        if not 0 < self.mixture_p0 <= 1:
            raise ValueError("mixture_p0 must be in (0, 1]")
        if self.provider_window < 1 or not 0 <= self.provider_trim < 0.5:
            raise ValueError("provider_window must be at least 1 and provider_trim in [0, 0.5)")
        if not 0 < self.provider_gate_share <= 1:
            raise ValueError("provider_gate_share must be in (0, 1]")
