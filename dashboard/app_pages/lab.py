"""Threshold lab: ARL curves of one detector, then the delay / false-alert trade-off of the ward
thresholds on a synthetic benchmark, and saving the chosen configuration to the data folder."""

import dataclasses
import io

import altair as alt
import polars as pl
import streamlit as st
import tomli_w

from dashboard.app_context import context
from dashboard.components.lab_tradeoff import render_tradeoff
from dashboard.services.lab import DETECTORS, LabSettings, arl_curve, calibrate

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
def _curve(settings: LabSettings):  # type: ignore[no-untyped-def]
    c = arl_curve(settings, points=9 if settings.detector == "ewma" else 15)
    return c.shift, c.arl, c.arl0, c.shift_label, c.k


detector = st.selectbox("Detector", list(DETECTORS), format_func=DETECTORS.get, key="lab_detector")
c1, c2, c3 = st.columns(3)
if detector == "poisson_cusum":
    s = LabSettings(
        detector=detector,
        mu0=c1.number_input("Expected events per week", 0.05, 50.0, 0.7, 0.05, key="lab_mu0"),
        ratio=c2.number_input("Rate ratio to detect", 1.1, 5.0, 2.0, 0.1, key="lab_ratio"),
        h=c3.number_input("Threshold h (events)", 0.5, 50.0, 4.0, 0.05, key="lab_h"),
    )
elif detector == "binomial_cusum":
    s = LabSettings(
        detector=detector,
        p0=c1.number_input("In-control proportion", 0.005, 0.9, 0.12, 0.005, key="lab_p0"),
        trials=int(c1.number_input("Trials per week (e.g. shifts)", 1, 2000, 120, 1, key="lab_n")),
        ratio=c2.number_input("Odds ratio to detect", 1.1, 5.0, 2.0, 0.1, key="lab_or"),
        h=c3.number_input("Threshold h (events)", 0.5, 80.0, 6.5, 0.05, key="lab_hb"),
    )
else:
    s = LabSettings(
        detector=detector,
        lam=c1.number_input("Smoothing λ", 0.02, 1.0, 0.1, 0.01, key="lab_lam"),
        L=c2.number_input("Limit multiplier L (σ)", 1.0, 4.0, 2.814, 0.001, format="%.3f", key="lab_L"),
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

with st.expander("Download these ARL settings (a record of the lab, not a wardwatch configuration)"):
    doc = {
        "lab": {"note": "written by the wardwatch threshold lab", "arl0_weeks": round(arl0, 2)},
        "detectors": {detector: dataclasses.asdict(s)},
    }
    buf = io.BytesIO()
    tomli_w.dump(doc, buf)
    st.code(buf.getvalue().decode(), language="toml")
    st.download_button(
        "Download TOML",
        buf.getvalue(),
        file_name=f"wardwatch-arl-{detector}.toml",
        mime="application/toml",
        on_click="ignore",
    )

st.divider()
render_tradeoff(ctx)
