"""Tables the user picks rows from, and CSV downloads of what a page shows."""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
import streamlit as st

from dashboard.services.formatting import safe_csv
from dashboard.services.overview import summary_column_config, summary_for_display


def selectable_table(
    frame: pl.DataFrame,
    key: str,
    mode: Literal["single-row", "multi-row"] = "single-row",
    **options: Any,
) -> list[int]:
    """Show ``frame`` with row selection (the page reruns on a pick); the picked row positions.

    ``options`` go to ``st.dataframe`` (``column_config``, ``selection_default``, ``height``...).
    Positions past the frame's end (a selection kept from a longer table) are dropped.
    """
    event = st.dataframe(frame, key=key, hide_index=True, on_select="rerun", selection_mode=mode, **options)
    return [i for i in event.selection.rows if i < frame.height]


def csv_download(label: str, frame: pl.DataFrame, file_name: str, **options: Any) -> None:
    """A download button for ``frame`` as Excel-safe CSV (:func:`safe_csv`); no rerun on click."""
    st.download_button(
        label, data=safe_csv(frame), file_name=file_name, mime="text/csv", on_click="ignore", **options
    )


def indicator_summary_table(summary: pl.DataFrame, key: str, max_height: int) -> None:
    """The indicator summary (``dashboard.services.overview.indicator_summary``) as shown on a page:
    icons as images, as tall as its rows up to ``max_height`` pixels."""
    st.dataframe(
        summary_for_display(summary),
        hide_index=True,
        key=key,
        column_config=summary_column_config(),
        height=min(38 + 35 * summary.height, max_height),
    )
