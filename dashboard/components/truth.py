"""Known truth on screen (synthetic trusts): injected episodes on the overview and the ward page.

Shown only when ``truth.csv`` sits beside the data; the outcomes come from
:mod:`dashboard.services.truth` (the evaluation's counting rules).
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import streamlit as st

from dashboard.app_context import AppContext, md_escape
from dashboard.services.formatting import uk_date
from dashboard.services.truth import OUTCOME_WORDS, KnownTruth, cached_known_truth

KIND_WORDS: dict[str, str] = {"closed_culture": "closed culture", "concealment": "concealment"}
EPISODE_COLOUR = "#da291c"  # NHS red
ALERT_COLOUR = "#005eb8"  # NHS blue


def _truth(ctx: AppContext) -> KnownTruth | None:
    if ctx.results is None:
        return None
    try:
        return cached_known_truth(ctx.settings.data_path, ctx.results.key, ctx.results.results_dir)
    except ValueError as exc:  # TruthError / EvaluationError: say so, do not break the page
        st.warning(f"truth.csv beside the data could not be read: {exc}")
        return None


def outcome_sentence(row: dict, horizon: int) -> str:
    """One plain sentence about an episode's outcome, e.g. "detected after 5 weeks (concern alert …)"."""
    word = row["outcome"]
    if word == "not_evaluable":
        return "not evaluable (the ward or its onset is outside the scored weeks)"
    if word == "missed":
        return "missed: no concern alert opened on the ward after onset"
    when = f"concern alert opened week of {uk_date(row['concern_week'])}"
    delay = row["delay_weeks"]
    if word == "late":
        return f"detected late, after {delay} weeks (beyond the {horizon}-week horizon; {when})"
    return f"detected after {delay} weeks ({when})"


def episodes_for_display(truth: KnownTruth, names: dict[str, str]) -> pl.DataFrame:
    """The episode table in words."""
    ep = truth.episodes
    return ep.select(
        pl.col("ward_id").replace_strict(names, default=pl.col("ward_id")).alias("Ward"),
        pl.col("ward_id").alias("Ward id"),
        pl.col("kind").replace_strict(KIND_WORDS, default=pl.col("kind")).alias("Injected"),
        pl.col("onset").alias("Onset"),
        pl.col("end").alias("End"),
        pl.col("outcome").replace_strict(OUTCOME_WORDS, default=pl.col("outcome")).alias("Outcome"),
        pl.col("delay_weeks").alias("Delay to concern (weeks)"),
        pl.col("concern_week").alias("Concern alert week"),
        pl.col("watch_delay_weeks").alias("Delay to watch (weeks)"),
    )


def render_truth_overview(ctx: AppContext) -> None:
    """Overview section: counts of detected, late and missed injected episodes and their list."""
    truth = _truth(ctx)
    if truth is None or ctx.results is None:
        return
    st.subheader("Known truth (synthetic trust)")
    n = truth.counts()
    m = st.columns(4)
    m[0].metric("Injected episodes", truth.episodes.height)
    m[1].metric(f"Detected within {truth.horizon} weeks", n["detected"])
    m[2].metric("Detected late", n["late"])
    m[3].metric("Missed", n["missed"])
    names = dict(
        zip(ctx.results.wards["ward_id"].to_list(), ctx.results.wards["ward_name"].to_list(), strict=True)
    )
    uk_day = st.column_config.DateColumn(format="DD/MM/YYYY")
    st.dataframe(
        episodes_for_display(truth, names),
        hide_index=True,
        key="truth_episodes",
        column_config={"Onset": uk_day, "End": uk_day, "Concern alert week": uk_day},
    )
    esc = int(truth.decoys["escalated"].sum()) if truth.decoys.height else 0
    st.caption(
        f"`{truth.path.name}` sits beside the data, so this trust is synthetic with known injected episodes. "
        f"Detected: a ward concern alert opened within {truth.horizon} weeks of onset; late: it opened later; "
        f"missed: none opened after onset (the counting rules of `wardwatch evaluate`, docs/evaluation.md). "
        f"{esc} of {truth.decoys.height} look-alike changes (decoys) reached concern during their window."
    )


def _episode_chart(
    hist: pl.DataFrame, episodes: pl.DataFrame, last: dt.date
) -> alt.LayerChart | alt.FacetChart:
    spans = episodes.select(
        pl.col("onset"),
        pl.col("end").fill_null(last).alias("end"),
        pl.col("kind").replace_strict(KIND_WORDS, default=pl.col("kind")).alias("kind"),
        pl.col("outcome").replace_strict(OUTCOME_WORDS, default=pl.col("outcome")).alias("outcome"),
    )
    alerts = episodes.filter(pl.col("concern_week").is_not_null()).select("concern_week", "delay_weeks")
    score = (
        alt.Chart(hist.select("period", (pl.col("evidence_strength").fill_null(0.0) * 100).alias("score")))
        .mark_line(color="#425563")
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("score:Q", title="Current evidence (0-100)", scale=alt.Scale(domain=[0, 100])),
        )
    )
    rect = (
        alt.Chart(spans)
        .mark_rect(color=EPISODE_COLOUR, opacity=0.15)
        .encode(
            x="onset:T",
            x2="end:T",
            tooltip=[
                alt.Tooltip("kind:N", title="Injected"),
                alt.Tooltip("onset:T"),
                alt.Tooltip("outcome:N"),
            ],
        )
    )
    onset = alt.Chart(spans).mark_rule(color=EPISODE_COLOUR, strokeWidth=2).encode(x="onset:T")
    alert = (
        alt.Chart(alerts)
        .mark_rule(color=ALERT_COLOUR, strokeDash=[4, 3], strokeWidth=2)
        .encode(x="concern_week:T", tooltip=[alt.Tooltip("delay_weeks:Q", title="Delay (weeks)")])
    )
    return alt.layer(rect, score, onset, alert).properties(height=180, width="container")


def render_ward_truth(ctx: AppContext, ward_id: str) -> None:
    """Ward page: this ward's injected episodes marked on its score, with their outcome and delay."""
    truth = _truth(ctx)
    if truth is None or ctx.results is None:
        return
    episodes, decoys = truth.ward(ward_id)
    if episodes.is_empty() and decoys.is_empty():
        st.caption(
            f"Known truth (`{truth.path.name}`): no episode or look-alike change was injected on this ward."
        )
        return
    st.subheader("Known truth (synthetic trust)")
    for row in episodes.iter_rows(named=True):
        text = (
            f"**Injected {KIND_WORDS.get(row['kind'], row['kind'])} episode** from {uk_date(row['onset'])}"
            + (f" to {uk_date(row['end'])}" if row["end"] else " (ongoing)")
            + f": {outcome_sentence(row, truth.horizon)}."
        )
        (st.success if row["outcome"] == "detected" else st.warning)(text)
    for row in decoys.iter_rows(named=True):
        (st.warning if row["escalated"] else st.success)(
            f"Look-alike change ({md_escape(row['kind'].replace('_', ' '))}) from {uk_date(row['onset'])}"
            + (f" to {uk_date(row['end'])}" if row["end"] else "")
            + (": the ward reached concern during it." if row["escalated"] else ": not escalated to concern.")
        )
    if episodes.height:
        hist = ctx.results.ward_status.filter(pl.col("ward_id") == ward_id)
        last = ctx.results.as_of or dt.date.today()
        st.altair_chart(_episode_chart(hist, episodes, last), key="truth_ward_chart")
        st.caption(
            "Red band: the injected episode (red line: onset); dashed blue line: the first concern alert after "
            "onset. Grey line: the ward's current evidence (0-100, as on the overview)."
        )
