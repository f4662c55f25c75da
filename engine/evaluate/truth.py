"""Reading ``truth.csv`` (synthetic/README.md) and turning it into evaluation windows.

Kinds: ``closed_culture``, ``concealment`` and ``provider_deterioration`` (one row per affected ward)
are the episodes to detect (``CULTURE_KINDS``);
``reconfiguration`` rows are announced, known changes and are neither episodes nor decoys (their
ward-time is ordinary monitored time); every other kind is a *decoy* (something that moves
indicators but is not a closed culture).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

# The truth contract (engine.contract.truth), kept importable from here.
from engine.contract.truth import CULTURE_KINDS as CULTURE_KINDS
from engine.contract.truth import KNOWN_CHANGE_KINDS as KNOWN_CHANGE_KINDS
from engine.contract.truth import TRUTH_COLUMNS as TRUTH_COLUMNS
from engine.contract.truth import TRUTH_OPTIONAL

#: Truth columns a file may leave out (``group_id`` defaults to the episode's own id).
_OPTIONAL: tuple[str, ...] = TRUTH_OPTIONAL


class TruthError(ValueError):
    """``truth.csv`` is missing, malformed or inconsistent (message names the row or column)."""


def read_truth(path: str | Path) -> pl.DataFrame:
    """Read and check ``truth.csv``.

    Returns
    -------
    polars.DataFrame
        The truth columns with ``onset``, ``full_effect`` and ``end`` as dates (``end`` null when
        ongoing) and a ``role`` column: ``episode``, ``decoy`` or ``known_change``.
    """
    p = Path(path)
    if not p.exists():
        raise TruthError(f"{p}: no such truth file")
    try:
        raw = pl.read_csv(p, infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as exc:
        raise TruthError(
            f"{p}: not a readable CSV file ({type(exc).__name__}); save it as CSV UTF-8"
        ) from None
    missing = [c for c in TRUTH_COLUMNS if c not in raw.columns and c not in _OPTIONAL]
    if missing:
        raise TruthError(f"{p}: missing column(s) {', '.join(missing)}")
    if "group_id" not in raw.columns:  # optional: without it every episode is its own group
        raw = raw.with_columns(pl.col("episode_id").alias("group_id"))
    for col in ("indicators", "effects"):
        if col not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    frame = raw.select(TRUTH_COLUMNS)
    try:
        frame = frame.with_columns(
            pl.col("onset").str.to_date("%Y-%m-%d"),
            pl.col("full_effect").fill_null(pl.col("onset")).str.to_date("%Y-%m-%d"),
            pl.when(pl.col("end").str.strip_chars() == "")
            .then(None)
            .otherwise(pl.col("end"))
            .str.to_date("%Y-%m-%d")
            .alias("end"),
        )
    except pl.exceptions.InvalidOperationError as exc:
        raise TruthError(f"{p}: dates must be YYYY-MM-DD ({exc})") from None
    if frame["onset"].null_count():
        row = frame.with_row_index().filter(pl.col("onset").is_null())["index"][0]
        raise TruthError(f"{p}: line {row + 2}: onset is empty")
    bad = frame.with_row_index().filter(pl.col("end") < pl.col("onset"))
    if bad.height:
        raise TruthError(f"{p}: line {bad['index'][0] + 2}: end before onset")
    frame = frame.with_columns(
        pl.col("indicators").fill_null(""),
        pl.col("effects").fill_null("{}"),
        pl.when(pl.col("kind").is_in(list(CULTURE_KINDS)))
        .then(pl.lit("episode"))
        .when(pl.col("kind").is_in(list(KNOWN_CHANGE_KINDS)))
        .then(pl.lit("known_change"))
        .otherwise(pl.lit("decoy"))
        .alias("role"),
    )
    for i, text in enumerate(frame["effects"].to_list()):
        try:
            json.loads(text)
        except json.JSONDecodeError:
            raise TruthError(f"{p}: line {i + 2}: effects is not JSON") from None
    return frame.sort("onset", "episode_id")


def numeric_effects(effects_json: str) -> dict[str, float]:
    """``{indicator: multiplier}`` from a truth ``effects`` cell, dropping non-numeric entries.

    Non-numeric effects (e.g. an extra manager change ``{"add": 1, "date": ...}``) and multipliers of
    exactly 1 carry no rate shift and are left out.
    """
    out: dict[str, float] = {}
    for key, value in json.loads(effects_json).items():
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 and value != 1:
            out[str(key)] = float(value)
    return out
