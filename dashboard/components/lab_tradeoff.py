"""Threshold lab section: the trade-off of a ward threshold on the loaded trust's own baselines.

Runs :func:`engine.evaluate.tradeoff.simulate_tradeoff` in a background worker (the page stays
usable; progress and a cancel button refresh every second), shows the curve and the table, and
saves the chosen point with its provenance as the data folder's configuration file (what the next
re-score reads). The previous result stays on screen while a new run is computing.

Researchers only (the page is gated on ``lab``, saving on ``config``). A saved file is the *full*
configuration; the previous file is kept under ``.wardwatch/config-backups/``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import Literal, cast

import polars as pl
import streamlit as st

from dashboard.app_context import AppContext
from dashboard.components.job_progress import live_job
from dashboard.components.lab_charts import point_label, tradeoff_chart, tradeoff_summary
from dashboard.services.jobs import JobRunner
from dashboard.services.lab_sweep import (
    MAX_POINTS,
    SWEPT_LABELS,
    TrustData,
    chosen_config,
    parse_thresholds,
    read_tradeoff,
    tradeoff_spec,
    trust_data,
)
from engine.config import Config, load_config, save_config
from engine.evaluate.tradeoff import SWEPT_KEYS, TradeoffResult, TradeoffSettings
from engine.settings import SettingsError

#: candidate thresholds offered by default (nats), with the one in force added.
DEFAULT_GRID = (3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0)
#: candidate watch thresholds (two or more culture domains at or above this), up to concern.
WATCH_GRID = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
KIND = "tradeoff"


def runner(ctx: AppContext) -> JobRunner:
    """The lab's job runner (its cache lives in the dashboard's ``lab_dir``)."""
    return JobRunner(ctx.settings.lab_path)


def default_grid(config: Config, swept: str) -> str:
    comb = config.combination
    current = comb.concern_threshold if swept == "concern" else comb.watch_threshold
    high = comb.urgent_threshold if swept == "concern" else comb.concern_threshold
    grid = DEFAULT_GRID if swept == "concern" else WATCH_GRID
    values = sorted({v for v in grid if v <= high} | ({current} if current is not None else set()))
    return ", ".join(f"{v:g}" for v in values)


def _nats(value: float | None) -> str:
    """A threshold in nats as text ("off" when unset)."""
    return "off" if value is None else f"{value:g}"


def render_tradeoff(ctx: AppContext) -> None:
    """The trade-off section of the lab page."""
    st.subheader("Delay and false alerts on this trust's own data")
    st.caption(
        "Replicates of this trust are drawn in control from its own fitted baselines (the simulation "
        "of `wardwatch calibrate-alerts`); synthetic closed-culture episodes of the size, ramp and "
        "breadth chosen below are injected into copies of its own wards, and single-domain changes "
        "(look-alikes) into others. Each replicate is scored as configured, and for each candidate "
        "threshold the lab counts false alerts per ward-year, episodes detected within 8, 16 and 26 "
        "weeks, the median delay and the share of single-domain changes escalated to concern, with "
        "Monte Carlo errors. Counting rules: docs/evaluation.md."
    )
    trust = _trust_in_force(ctx)
    if trust is None:
        return
    jobs = runner(ctx)
    go, settings = _tradeoff_form(trust)
    if go:
        if settings is None:
            return
        status = jobs.submit(KIND, tradeoff_spec(trust, settings))
        st.session_state["lab_t_job"] = status.key
    key = _job_key(jobs, trust)
    if key is None:
        st.info("Choose the episodes and thresholds, then run: the simulation runs in the background.")
        return
    _job_result(ctx, jobs, key, trust)


def _trust_in_force(ctx: AppContext) -> TrustData | None:
    """The trust's data and configuration in force, described (None, with a message, when missing)."""
    if ctx.results is None:
        st.info("No results are loaded: score the trust first (Upload data, or `wardwatch score`).")
        return None
    try:
        trust = trust_data(ctx.settings.data_path, ctx.results.run)
    except (FileNotFoundError, SettingsError) as exc:
        st.error(f"The lab cannot find the trust's data: {exc}")
        return None
    comb = trust.config.combination
    st.caption(
        f"Starting from the configuration in force, {trust.config_source}: concern threshold "
        f"{comb.concern_threshold:g} nats, watch (the constellation of two or more domains) "
        f"{_nats(comb.watch_threshold)}, urgent "
        f"{comb.urgent_threshold:g}; targets {comb.target_false_concern_per_ward_year:g} false concern "
        f"alerts per ward-year. Data: " + ", ".join(f"`{p.name}`" for p in trust.files.values()) + "."
    )
    saved_path = ctx.settings.config_path
    if saved_path.exists():
        try:
            pending = load_config(saved_path).digest() != trust.config.digest()
        except SettingsError:
            pending = True
        if pending:
            st.caption(
                f"`{saved_path.name}` in the data folder differs from the configuration in force (saved but not "
                "yet re-scored): re-score from Upload data to apply it."
            )
    return trust


def _tradeoff_form(trust: TrustData) -> tuple[bool, TradeoffSettings | None]:
    """The run form: (submitted, its settings; None with a warning when they are not valid)."""
    with st.form("lab_t_form"):
        c1, c2, c3, c4 = st.columns(4)
        swept = cast(  # options are never empty: the choice is never None
            Literal["concern", "watch"],
            c1.selectbox(
                "Threshold to sweep",
                list(SWEPT_LABELS),
                format_func=SWEPT_LABELS.__getitem__,
                key="lab_t_swept",
            ),
        )
        size = c2.number_input("Episode size (rate ratio)", 1.1, 5.0, 1.6, 0.1, key="lab_t_size")
        ramp = c3.number_input("Ramp (weeks to full effect)", 0, 52, 12, 1, key="lab_t_ramp")
        breadth = c4.selectbox("Breadth (culture domains)", [2, 3, 4], index=1, key="lab_t_breadth")
        c5, c6, c7 = st.columns([1, 1, 2])
        replicates = c5.number_input("Replicates of the trust", 2, 500, 20, 1, key="lab_t_reps")
        seed = c6.number_input("Seed", 0, 10**9, 20261122, 1, key="lab_t_seed")
        text = c7.text_input(
            f"Candidate thresholds (nats, up to {MAX_POINTS})",
            value=default_grid(trust.config, "concern"),
            key="lab_t_grid",
        )
        go = st.form_submit_button("Run in the background", type="primary")
    if not go:
        return False, None
    try:
        high = trust.config.combination.urgent_threshold if swept == "concern" else 50.0
        values = parse_thresholds(text, high=high)
        if len(values) > MAX_POINTS:
            raise ValueError(f"{len(values)} thresholds: the lab runs at most {MAX_POINTS}")
        return True, TradeoffSettings(
            size=float(size), ramp_weeks=int(ramp), breadth=int(breadth), replicates=int(replicates),
            seed=int(seed), swept=swept, thresholds=tuple(values),
        )  # fmt: skip
    except ValueError as exc:
        st.warning(f"Not run: {exc}")
        return True, None


def _job_key(jobs: JobRunner, trust: TrustData) -> str | None:
    """The run this session asked for, else (a reloaded page) the latest run on the data now loaded."""
    key = st.session_state.get("lab_t_job")
    if key is None:
        latest = jobs.latest(KIND, where=lambda spec: spec.get("digests") == trust.digests)
        key = latest.key if latest else None
        if key:
            st.session_state["lab_t_job"] = key
    return key


def _job_result(ctx: AppContext, jobs: JobRunner, key: str, trust: TrustData) -> None:
    """The run's progress or failure, and its result (or the previous one while it runs)."""
    status = jobs.status(key)
    if status is None:
        st.info("The previous run's files are gone: run again.")
        return
    if status.active:
        live_job(
            jobs,
            key,
            running="Running in the background",
            cancel_label="Cancel the run",
            button_key="lab_t_cancel",
        )
    elif status.state == "failed":
        st.error(f"The run failed: {status.error}")
    elif status.state == "cancelled":
        st.warning("The run was cancelled; nothing was changed.")
    shown = st.session_state.get("lab_t_shown")
    if status.state == "done":
        st.session_state["lab_t_shown"] = key
        _show(ctx, jobs, key, trust)
    elif shown and shown != key and jobs.status(shown) is not None:
        st.caption("Showing the previous result until the new run finishes.")
        _show(ctx, jobs, shown, trust)


def _weeks(col: str, horizon: int) -> pl.Expr:
    c = pl.col(col)
    return (
        pl.when(~c.is_finite() | (c >= horizon))
        .then(pl.lit(f">{horizon}"))
        .otherwise(c.round(0).cast(pl.Int64).cast(pl.String))
    )


def table_for_display(table: pl.DataFrame, s: TradeoffSettings) -> pl.DataFrame:
    """The trade-off table in words (± one Monte Carlo standard error)."""
    longest = max(s.horizons)

    def pm(col: str, se: str, digits: int = 3, scale: float = 1.0) -> pl.Expr:
        return pl.format("{} ± {}", (pl.col(col) * scale).round(digits), (pl.col(se) * scale).round(digits))

    cols = [
        pl.col("threshold").alias("Threshold (nats)"),
        pm("false_concern_per_ward_year", "false_concern_se").alias("False concern alerts / ward-year"),
        pm("false_watch_per_ward_year", "false_watch_se").alias("False watch alerts / ward-year"),
    ]
    cols += [
        pm(f"detected_{h}w", f"detected_{h}w_se", 0, 100).alias(f"Detected within {h} wk (%)")
        for h in s.horizons
    ]
    cols += [
        _weeks("delay_median", longest).alias("Median delay (wk)"),
        pl.format("{} to {}", _weeks("delay_median_lo", longest), _weeks("delay_median_hi", longest)).alias(
            "95% interval (wk)"
        ),
        pm("single_domain_escalated", "single_domain_escalated_se", 0, 100).alias(
            "Single-domain changes escalated (%)"
        ),
    ]
    return table.select(cols)


def _show(ctx: AppContext, jobs: JobRunner, key: str, trust: TrustData) -> None:
    saved = st.session_state.pop("lab_saved", None)
    if saved:
        st.success(saved)
    result = read_tradeoff(jobs.result_dir(key), jobs.spec(key))
    s = result.settings
    table = result.table
    comb = trust.config.combination
    current = comb.concern_threshold if s.swept == "concern" else comb.watch_threshold
    values = table["threshold"].to_list()
    default = values.index(current) if current in values else 0
    rows = table.to_dicts()
    chosen = st.selectbox(
        "Pick a threshold",
        values,
        index=default,
        key=f"lab_pick_{key}",
        format_func=lambda v: point_label(rows[values.index(v)], s) + (" (in force)" if v == current else ""),
    )
    st.altair_chart(tradeoff_chart(table, s, chosen, current), key=f"lab_tradeoff_{key}")
    st.caption(
        tradeoff_summary(result) + " Orange ring: the threshold picked; dashed square: the one in force."
    )
    st.dataframe(table_for_display(table, s), hide_index=True, key=f"lab_table_{key}")
    st.caption(
        f"{result.wards} wards x {result.weeks} weeks, {s.replicates} replicates (seed {s.seed}): "
        f"{result.episodes} episodes (size {s.size:g}, ramp {s.ramp_weeks} weeks, {s.breadth} domains), "
        f"{result.single_domain_changes} single-domain changes, {result.ward_years:,.0f} ward-years outside "
        f"them; computed in {result.seconds:.1f} s (job `{key}`, cached: asking again is instant)."
    )
    try:
        config = chosen_config(trust, result, chosen, saved_by=ctx.user.name)
    except (SettingsError, ValueError) as exc:
        st.warning(f"This threshold cannot be saved with the configuration in force: {exc}")
        return
    dest = ctx.settings.config_path
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download configuration (TOML)",
        config.to_toml().encode(),
        file_name=f"wardwatch-{s.swept}-{chosen:g}.toml",
        mime="application/toml",
        on_click="ignore",
        key=f"lab_download_{key}",
    )
    if ctx.user.can("config"):
        if c2.button(f"Save as {dest.name} in the data folder", key="lab_save_config", type="primary"):
            path, backup = save_to_data_folder(config, dest)
            st.session_state["lab_saved"] = (
                f"Saved the full configuration with {SWEPT_KEYS[s.swept]} = {chosen:g} and its provenance to "
                f"`{path}`"
                + (f" (the previous file is kept as `{backup}`)" if backup else "")
                + ". Re-score to apply it (Upload data → Re-score the current data); "
                f"`wardwatch config check {path.name}` prints where it came from."
            )
            st.rerun(scope="app")
    else:
        c2.info("Saving the configuration needs the research role.")
    with st.expander("Show the configuration's provenance"):
        st.code(dataclasses.asdict(config.provenance).__repr__(), language="python")


def save_to_data_folder(config: Config, dest: Path) -> tuple[Path, Path | None]:
    """Write the full configuration to ``dest``; returns (``dest``, backup of the previous file).

    An existing file is first copied to ``.wardwatch/config-backups/<name>-<UTC time>.toml`` next
    to it, so saving from the lab never loses a hand-edited configuration.
    """
    backup = None
    if dest.exists():
        backups = dest.parent / ".wardwatch" / "config-backups"
        backups.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = backups / f"{dest.stem}-{stamp}.toml"
        shutil.copy2(dest, backup)
    tmp = dest.with_name(f".{dest.name}.tmp")
    save_config(config, tmp)
    tmp.replace(dest)
    return dest, backup


__all__ = ["TradeoffResult", "render_tradeoff", "save_to_data_folder"]
