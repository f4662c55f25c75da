"""How many wards of a provider share a provider-wide change ("shared by 9 of 11 wards").

A provider alert (scope ``provider``) says an indicator moved on most wards of a provider at once.
For each such alert the wards of the provider that report the indicator during the alert's
episode (``opened`` to ``closed``, or to the data end while it holds) are counted, and of them
those whose own count over the episode moved the alert's way against their own baseline:
observed total above (or, for a fall, below) the sum of ``baseline_rate x exposure``. The
baseline is the ward's causal expected rate before any provider adjustment (``series.parquet``).
One scan of ``series.parquet`` for all alerts of a provider's indicators: no per-ward loop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from dashboard.services.formatting import indicator_label
from dashboard.services.results import Results
from engine.contract.dates import uk_date

#: the label of a provider alert without an indicator: several of its wards at concern together
#: (deterioration spreading across a provider, e.g. the Edenfield Centre), not a provider-wide artefact.
DETERIORATION_LABEL = "Several wards at concern"


@dataclass(frozen=True)
class ProviderShare:
    """One provider alert and how many of the provider's reporting wards share its change."""

    alert_id: str
    provider: str
    indicator: str
    direction: str
    opened: dt.date
    sharing: int
    reporting: int
    sharing_wards: tuple[str, ...]

    def sentence(self, ward_name: str | None = None) -> str:
        """ "this ward's rise in agency use is shared by 9 of 11 wards of North Trust"."""
        if not self.indicator:  # several wards of the provider at concern together
            who = "This ward" if ward_name is None else ward_name
            return (
                f"{who} is one of {self.sharing} of the {self.reporting} wards of {self.provider} at concern "
                f"together (since {uk_date(self.opened)}): deterioration on several wards of one provider "
                "is itself a warning sign; ask what they share (leadership, staffing, commissioning)."
            )
        move = "rise" if self.direction == "up" else "fall"
        what = indicator_label(self.indicator).lower()
        who = "This ward's" if ward_name is None else f"{ward_name}'s"
        return (
            f"{who} {move} in {what} is shared by {self.sharing} of {self.reporting} wards of "
            f"{self.provider} (a provider-wide change since {uk_date(self.opened)}): look for a common "
            "cause before a ward-level one."
        )

    @property
    def summary(self) -> str:
        """ "9 of 11 wards"."""
        return f"{self.sharing} of {self.reporting} wards"


def provider_shares(results: Results, alerts: pl.DataFrame | None = None) -> list[ProviderShare]:
    """The ward share of every provider alert in ``alerts`` (default: the results' provider alerts)."""
    pa = results.alerts.filter(pl.col("scope") == "provider") if alerts is None else alerts
    if pa.is_empty() or not results.series_path.exists() or results.as_of is None:
        return []
    pa = pa.select(
        "alert_id", "provider", "indicator", "direction", "opened",
        pl.coalesce("closed", pl.lit(results.as_of)).alias("until"),
    )  # fmt: skip
    register = results.wards.select("ward_id", pl.col("provider").alias("ward_provider"))
    keys = pa["indicator"].unique().to_list()
    series = (
        pl.scan_parquet(results.series_path)
        .filter(pl.col("indicator").is_in(keys) & pl.col("numerator").is_not_null())
        .select(
            "ward_id",
            "indicator",
            "period",
            "numerator",
            (pl.col("baseline_rate") * pl.col("denominator").fill_null(1.0)).alias("expected"),
        )
        .collect()
        .join(register, on="ward_id", how="inner")
    )
    cells = (
        pa.join(
            series, left_on=["provider", "indicator"], right_on=["ward_provider", "indicator"], how="inner"
        )
        .filter((pl.col("period") >= pl.col("opened")) & (pl.col("period") <= pl.col("until")))
        .group_by("alert_id", "ward_id")
        .agg(pl.col("numerator").sum().alias("observed"), pl.col("expected").sum().alias("expected"))
        .join(pa.select("alert_id", "direction"), on="alert_id")
        .with_columns(
            pl.when(pl.col("direction") == "up")
            .then(pl.col("observed") > pl.col("expected"))
            .otherwise(pl.col("observed") < pl.col("expected"))
            .fill_null(False)
            .alias("shares")
        )
    )
    per_alert = cells.group_by("alert_id").agg(
        pl.len().alias("reporting"),
        pl.col("shares").sum().alias("sharing"),
        pl.col("ward_id").filter(pl.col("shares")).sort().alias("wards"),
    )
    rows = pa.join(per_alert, on="alert_id", how="left").sort("opened", "alert_id")
    # alerts without an indicator (several wards at concern together) list their wards themselves
    listed = dict(
        zip(
            (d := results.alerts.filter(pl.col("alert_id").is_in(pa["alert_id"].implode())))["alert_id"],
            d["contributing"].fill_null(""),
            strict=True,
        )
    )
    size = dict(register.group_by("ward_provider").len().iter_rows())
    out = []
    for r in rows.iter_rows(named=True):
        wards: tuple[str, ...] = tuple(r["wards"] or ())
        sharing, reporting = int(r["sharing"] or 0), int(r["reporting"] or 0)
        if not r["indicator"]:
            wards = tuple(sorted(w for w in listed.get(r["alert_id"], "").split(";") if w))
            sharing, reporting = len(wards), int(size.get(r["provider"], len(wards)))
        out.append(
            ProviderShare(
                r["alert_id"],
                r["provider"],
                r["indicator"] or "",
                r["direction"],
                r["opened"],
                sharing,
                reporting,
                wards,
            )
        )
    return out


def ward_provider_sentences(results: Results, ward_id: str, *, only_current: bool = True) -> list[str]:
    """Sentences for a ward's briefing: each provider-wide change this ward shares (current ones)."""
    alerts = results.alerts.filter(pl.col("scope") == "provider")
    if only_current:
        alerts = alerts.filter(pl.col("closed").is_null())
    mine = [s for s in provider_shares(results, alerts) if ward_id in s.sharing_wards]
    shared = [s for s in mine if s.indicator]
    out = [s.sentence() for s in mine if not s.indicator]  # several wards at concern together
    if len(shared) == 1:
        out.insert(0, shared[0].sentence())
    elif shared:  # one sentence for all the provider-wide changes the ward shares
        parts = [
            f"{'rise' if s.direction == 'up' else 'fall'} in {indicator_label(s.indicator).lower()} "
            f"({s.sharing} of {s.reporting} wards, since {uk_date(s.opened)})"
            for s in shared
        ]
        out.insert(
            0,
            f"This ward shares provider-wide changes with other wards of {shared[0].provider}: "
            + ", ".join(parts[:-1])
            + f" and {parts[-1]}: look for a common cause before a ward-level one.",
        )
    return out
