"""Threshold lab: ARL curves of a detector in force, then the trade-off of the ward thresholds on the
trust's own data (in the background), and saving the chosen configuration with its provenance."""

import dataclasses
import io

import altair as alt
import polars as pl
import streamlit as st
import tomli_w

from dashboard.app_context import context
from dashboard.components.lab_tradeoff import render_tradeoff
from dashboard.services.lab import (
    DETECTORS,
    LabSettings,
    arl_curve,
    calibrate,
    detector_in_force,
    threshold_nats,
)
from dashboard.services.lab_sweep import trust_data
from engine.config import Config
from engine.settings import SettingsError

ctx = context()
st.title("Threshold lab")
if not ctx.user.can("lab"):
    st.warning("The threshold lab is for the research role.")
    st.stop()
st.caption(
    "Average run length (ARL) in weeks: in control (ARL0, mean time to a false alarm) and out of control "
    "(mean delay to detection when the shift is present from the start). Exact Markov-chain / integral-"
    "equation results from engine.arl."
)


@st.cache_data(max_entries=64, show_spinner="Computing run lengths…")
def _curve(settings: LabSettings):
    c = arl_curve(settings, points=9 if settings.detector == "ewma" else 15)
    return c.shift, c.arl, c.arl0, c.shift_label, c.k


try:
    trust = trust_data(ctx.settings.data_path, ctx.results.run) if ctx.results else None
except (FileNotFoundError, SettingsError):
    trust = None
config = trust.config if trust else Config()
source = trust.config_source if trust else "the built-in defaults (no results loaded)"
start = detector_in_force(config, ctx.results, st.session_state.get("lab_ind") or "restraint")
keys = [k for k in config.build_catalogue() if config.indicator(k).enabled]
ind = st.selectbox(
    "Indicator (opens on its detector and threshold in force)",
    keys,
    index=keys.index(start.indicator) if start.indicator in keys else 0,
    key="lab_ind",
)
start = detector_in_force(config, ctx.results, ind)
st.caption(f"In force for `{ind}`, from {source}: {start.description}")
d0 = start.settings
detector = st.selectbox(
    "Detector",
    list(DETECTORS),
    index=list(DETECTORS).index(d0.detector),
    format_func=DETECTORS.__getitem__,
    key=f"lab_detector_{ind}",
)
c1, c2, c3 = st.columns(3)
if detector == "poisson_cusum":
    s = LabSettings(
        detector=detector,
        mu0=c1.number_input(
            "Expected events per week", 0.01, 50.0, max(0.01, d0.mu0), 0.05, key=f"lab_mu0_{ind}"
        ),
        ratio=c2.number_input("Rate ratio to detect", 1.1, 5.0, d0.ratio, 0.1, key=f"lab_ratio_{ind}"),
        h=c3.number_input("Threshold h (events)", 0.5, 80.0, d0.h, 0.05, key=f"lab_h_{ind}"),
    )
elif detector == "binomial_cusum":
    s = LabSettings(
        detector=detector,
        p0=c1.number_input(
            "In-control proportion", 0.001, 0.9, d0.p0, 0.005, format="%.3f", key=f"lab_p0_{ind}"
        ),
        trials=int(
            c1.number_input("Trials per week (e.g. shifts)", 1, 5000, d0.trials, 1, key=f"lab_n_{ind}")
        ),
        ratio=c2.number_input("Odds ratio to detect", 1.1, 5.0, d0.ratio, 0.1, key=f"lab_or_{ind}"),
        h=c3.number_input("Threshold h (events)", 0.5, 80.0, d0.h, 0.05, key=f"lab_hb_{ind}"),
    )
else:
    s = LabSettings(
        detector=detector,
        lam=c1.number_input("Smoothing λ", 0.02, 1.0, d0.lam, 0.01, key=f"lab_lam_{ind}"),
        L=c2.number_input("Limit multiplier L (σ)", 1.0, 4.0, d0.L, 0.001, format="%.3f", key=f"lab_L_{ind}"),
    )

target = c3.number_input("Target ARL0 (weeks)", 52.0, 20000.0, 520.0, 52.0, key="lab_target")
if c3.button("Calibrate threshold to the target", key="lab_cal"):
    try:
        thr = calibrate(s, target)
        st.session_state["lab_calibrated"] = (detector, thr)
    except ValueError as exc:
        st.warning(f"Could not calibrate: {exc}")
cal = st.session_state.get("lab_calibrated")
if cal and cal[0] == detector:
    st.info(
        f"Calibrated threshold for ARL0 ≥ {target:,.0f} weeks: **{cal[1]:.3f}** (enter it above to use it)."
    )

try:
    shift, arl, arl0, label, k = _curve(s)
except ValueError as exc:
    st.error(f"These parameters are not valid: {exc}")
    st.stop()
frame = pl.DataFrame({"shift": shift, "arl": arl})
chart = (
    alt.Chart(frame)
    .mark_line(point=True, color="#005eb8")
    .encode(
        x=alt.X("shift:Q", title=label),
        y=alt.Y("arl:Q", title="ARL (weeks, log scale)", scale=alt.Scale(type="log")),
        tooltip=[
            alt.Tooltip("shift:Q", format=".2f"),
            alt.Tooltip("arl:Q", format=",.1f", title="ARL (weeks)"),
        ],
    )
    .properties(height=300, width="container")
)
st.altair_chart(chart, key="lab_chart")
design = s.ratio if detector != "ewma" else 1.0
near = frame.with_columns((pl.col("shift") - design).abs().alias("d")).sort("d").row(0, named=True)
st.caption(
    f"In-control ARL0 = {arl0:,.1f} weeks (about {52 / arl0:.2f} false alarms per ward-year per chart). "
    f"At {label} {near['shift']:.2f}: ARL1 = {near['arl']:,.1f} weeks. "
    + (f"Reference value k = {k:.2f} events per week (rounded to the 1/{s.lattice} lattice)." if k else "")
)

with st.expander("Download the configuration with this threshold"):
    if detector == "ewma":
        st.caption(
            "The EWMA's λ and L are the detector's fixed settings; the configuration sets only which "
            "detector an indicator uses. Download the ARL record instead."
        )
        doc = {"lab": {"arl0_weeks": round(arl0, 2)}, "detectors": {detector: dataclasses.asdict(s)}}
        buf = io.BytesIO()
        tomli_w.dump(doc, buf)
        st.download_button("Download ARL record (TOML)", buf.getvalue(), file_name="wardwatch-arl-ewma.toml",
                           mime="application/toml", on_click="ignore")  # fmt: skip
    else:
        nats = threshold_nats(s)
        cfg = config.replace(f"indicators.{ind}.threshold", round(nats, 4))
        st.caption(
            f"The configuration in force ({source}) with `indicators.{ind}.threshold = {nats:.3f}` nats "
            f"(h = {s.h:g} events x ln {s.ratio:g}); in-control ARL0 {arl0:,.1f} weeks."
        )
        st.download_button(
            "Download configuration (TOML)", cfg.to_toml().encode(), file_name=f"wardwatch-{ind}.toml",
            mime="application/toml", on_click="ignore", key="lab_arl_download",
        )  # fmt: skip

st.divider()
render_tradeoff(ctx)
