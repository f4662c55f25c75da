"""Threshold lab section: run the evaluation on a small synthetic benchmark, see the delay / false-alert
trade-off of the concern threshold, pick a point and save it as the data folder's configuration file.

Researchers only (the page is gated on the ``lab`` capability, saving on ``config``). The base
configuration is the data folder's ``config.toml`` when it exists (what ``wardwatch score --config``
reads), else the built-in defaults; a saved file is the *full* configuration (``save_config``) with
the chosen threshold, and the previous file is kept under ``.wardwatch/config-backups/``.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard.app_context import AppContext
from dashboard.components.lab_charts import point_label, tradeoff_chart, tradeoff_summary
from dashboard.services.lab_sweep import (
    MAX_POINTS,
    LabBenchmarkSettings,
    LabSweep,
    parse_thresholds,
    point_config,
    run_lab_sweep,
)
from engine.config import Config, load_config, save_config
from engine.settings import SettingsError

#: concern thresholds offered by default (nats), with the current one added.
DEFAULT_GRID = (3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0)
#: measured seconds per grid point per ward (80 wards x 156 weeks: about 1.2 s a point).
SECONDS_PER_POINT_WARD = 0.016


def base_config(path: Path) -> tuple[Config, str]:
    """(configuration, where it came from): the data folder's file, else the defaults."""
    if path.exists():
        return load_config(path), f"`{path.name}` in the data folder"
    return Config(), "the built-in defaults (no configuration file in the data folder yet)"


def default_grid(base: Config) -> str:
    current = base.combination.concern_threshold
    values = sorted({v for v in DEFAULT_GRID if v <= base.combination.urgent_threshold} | {current})
    return ", ".join(f"{v:g}" for v in values)


@functools.cache
def _cached_sweep_impl():  # type: ignore[no-untyped-def]
    @st.cache_resource(max_entries=16, show_spinner=False)
    def run(
        root: str, settings: LabBenchmarkSettings, base_digest: str, concern: tuple[float, ...], _base: Config
    ) -> LabSweep:
        return run_lab_sweep(root, settings, _base, concern)

    return run


def cached_sweep(
    root: Path, settings: LabBenchmarkSettings, base: Config, concern: tuple[float, ...]
) -> LabSweep:
    """:func:`run_lab_sweep` memoised in the process on (folder, settings, base digest, thresholds).

    The sweep folders are the durable cache (a restart only re-reads the summaries).
    """
    return _cached_sweep_impl()(str(root), settings, base.digest(), concern, base)


def _table_for_display(table: pl.DataFrame, horizon: int) -> pl.DataFrame:
    def weeks(col: str) -> pl.Expr:
        c = pl.col(col)
        return (
            pl.when(~c.is_finite() | (c >= horizon))
            .then(pl.lit(f">{horizon}"))
            .otherwise(c.round(0).cast(pl.Int64).cast(pl.String))
        )

    return table.select(
        pl.col("concern_threshold").alias("Concern threshold (nats)"),
        pl.format("{}/{}", pl.col("detected").cast(pl.Int64), pl.col("episodes").cast(pl.Int64)).alias(
            f"Detected within {horizon} wk"
        ),
        weeks("delay_median").alias("Median delay (wk)"),
        pl.format("{} to {}", weeks("delay_median_lo"), weeks("delay_median_hi")).alias("95% CI (wk)"),
        pl.col("false_alerts_per_ward_year").round(3).alias("False alerts / ward-year"),
        pl.format("{} to {}", pl.col("fa_lo").round(3), pl.col("fa_hi").round(3)).alias("95% CI"),
        (pl.col("flagged_share") * 100).round(1).alias("Out-of-episode weeks at concern (%)"),
        (pl.col("decoy_escalation_rate") * 100).round(0).alias("Decoys escalated (%)"),
        weeks("oracle_median_same_fa").alias("Oracle median at same false alerts (wk)"),
    )


def render_tradeoff(ctx: AppContext) -> None:
    """The trade-off section of the lab page."""
    st.subheader("Delay and false alerts on a synthetic benchmark")
    st.caption(
        "Runs the evaluation harness (`wardwatch sweep`) on a synthetic trust with known closed-culture "
        "episodes and look-alike decoys: for each concern threshold it scores the trust and counts how "
        "soon a ward concern alert opens after an episode starts, and how many concern alerts open "
        "outside every episode and decoy (false alerts per ward-year). Only the concern threshold "
        "changes when concern alerts open; the domain threshold sets the watch level. Counting rules: "
        "docs/evaluation.md."
    )
    try:
        base, source = base_config(ctx.settings.config_path)
    except SettingsError as exc:
        st.error(f"The data folder's configuration file is not valid, so the lab cannot start from it: {exc}")
        return
    comb = base.combination
    st.caption(
        f"Starting from {source}: concern threshold {comb.concern_threshold:g} nats, urgent "
        f"{comb.urgent_threshold:g} nats."
    )
    with st.form("lab_bench_form"):
        c1, c2, c3 = st.columns(3)
        wards = c1.number_input("Wards in the synthetic trust", 40, 200, 80, 10, key="lab_b_wards")
        weeks = c2.selectbox("Weeks", [156, 208], index=0, key="lab_b_weeks")
        seed = c3.number_input("Seed", 0, 1_000_000, 7, 1, key="lab_b_seed")
        text = st.text_input(
            f"Concern thresholds to try (nats, up to {MAX_POINTS}, at most the urgent threshold)",
            value=default_grid(base),
            key="lab_b_concern",
        )
        go = st.form_submit_button("Run the benchmark", type="primary")
    if go:
        try:
            values = parse_thresholds(text, high=comb.urgent_threshold)
            if len(values) > MAX_POINTS:
                raise ValueError(f"{len(values)} thresholds: the lab runs at most {MAX_POINTS}")
            settings = LabBenchmarkSettings(wards=int(wards), weeks=int(weeks), seed=int(seed))
        except ValueError as exc:
            st.warning(f"Not run: {exc}")
            return
        st.session_state["lab_sweep_params"] = (settings, tuple(values))
    params = st.session_state.get("lab_sweep_params")
    if params is None:
        est = SECONDS_PER_POINT_WARD * 80 * len(DEFAULT_GRID)
        st.info(
            f"Choose the thresholds and run the benchmark (about {est:.0f} s the first time; reruns are instant)."
        )
        return
    settings, values = params
    est = SECONDS_PER_POINT_WARD * settings.wards * settings.weeks / 156 * len(values)
    try:
        with st.spinner(
            f"Scoring and evaluating {len(values)} settings (up to about {est:.0f} s; cached afterwards)…"
        ):
            sweep = cached_sweep(ctx.settings.lab_path, settings, base, values)
    except (SettingsError, ValueError) as exc:
        st.warning(f"Not run: {exc}")
        return
    _show(ctx, sweep, base)


def _show(ctx: AppContext, sweep: LabSweep, base: Config) -> None:
    saved = st.session_state.pop("lab_saved", None)
    if saved:
        st.success(saved)
    s = sweep.settings
    h = s.horizon_weeks
    table = sweep.table
    current = table.filter(pl.col("concern_threshold") == base.combination.concern_threshold)
    current_id = current["point"][0] if current.height else None
    rows = table.to_dicts()
    ids = [r["point"] for r in rows]
    default = ids.index(current_id) if current_id in ids else 0
    chosen_id = st.selectbox(
        "Pick a setting",
        ids,
        index=default,
        key="lab_pick",
        format_func=lambda pid: (
            point_label(rows[ids.index(pid)], h) + (" (current)" if pid == current_id else "")
        ),
    )
    st.altair_chart(tradeoff_chart(table, h, chosen_id, current_id), key="lab_tradeoff")
    st.caption(
        tradeoff_summary(table, h, s.wards, s.weeks)
        + " Orange ring: the setting picked; dashed square: the current configuration; hollow points: "
        f"median delay beyond {h} weeks (drawn at {h})."
    )
    st.dataframe(_table_for_display(table, h), hide_index=True, key="lab_table")
    how = "read from the cache" if sweep.computed == 0 else f"{sweep.computed} setting(s) computed"
    st.caption(
        f"{s.wards} wards x {s.weeks} weeks, seed {s.seed}, scenarios `{s.scenarios}`; horizon {h} weeks, "
        f"{s.bootstrap_replicates} bootstrap replicates; {how} in {sweep.seconds:.1f} s. "
        f"Sweep folder: `{sweep.sweep_dir}`."
    )
    chosen = rows[ids.index(chosen_id)]
    config = point_config(base, chosen["concern_threshold"])
    toml = config.to_toml()
    st.markdown(f"**Configuration with concern threshold {chosen['concern_threshold']:g} nats**")
    dest = ctx.settings.config_path
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download configuration (TOML)",
        toml.encode(),
        file_name=f"wardwatch-concern-{chosen['concern_threshold']:g}.toml",
        mime="application/toml",
        on_click="ignore",
        key="lab_download",
    )
    if ctx.user.can("config"):
        if c2.button(f"Save as {dest.name} in the data folder", key="lab_save_config", type="primary"):
            saved, backup = save_to_data_folder(config, dest)
            st.session_state["lab_saved"] = (
                f"Saved the full configuration to `{saved}`"
                + (f" (the previous file is kept as `{backup}`)" if backup else "")
                + f". Re-score to apply it: `wardwatch score ... --config {saved}`."
            )
            st.rerun()  # the saved file is now the base: the chart marks it as current
    else:
        c2.info("Saving the configuration needs the research role.")
    with st.expander("Show the configuration file"):
        st.code(toml, language="toml")


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
    return save_config(config, dest), backup
