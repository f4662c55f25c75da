"""The ``truth.csv`` contract: known episodes of a synthetic (or annotated) trust.

Written by the synthetic generator (``synthetic/README.md``), read by the evaluation
(``engine.evaluate.truth``) and by the dashboard's known-truth view. One row per episode and ward.
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: Columns of ``truth.csv`` in file order, with their types once read (dates ISO ``YYYY-MM-DD``;
#: ``end`` empty while ongoing; ``indicators`` a semicolon list; ``effects`` JSON).
TRUTH_SCHEMA: Final[dict[str, pl.DataType]] = {
    "episode_id": pl.String(),
    "group_id": pl.String(),
    "ward_id": pl.String(),
    "kind": pl.String(),
    "onset": pl.Date(),
    "full_effect": pl.Date(),
    "end": pl.Date(),
    "indicators": pl.String(),
    "effects": pl.String(),
}
#: ``truth.csv`` column names in file order.
TRUTH_COLUMNS: Final[tuple[str, ...]] = tuple(TRUTH_SCHEMA)
#: The columns that identify an episode and place it in time (all but ``indicators`` and ``effects``).
EPISODE_COLUMNS: Final[tuple[str, ...]] = TRUTH_COLUMNS[:7]
#: Truth columns a file may leave out (``group_id`` defaults to the episode's own id).
TRUTH_OPTIONAL: Final[tuple[str, ...]] = ("effects", "indicators", "group_id")
#: Episode kinds that are closed cultures: the episodes to detect (the rest are decoys).
CULTURE_KINDS: Final[tuple[str, ...]] = ("closed_culture", "concealment", "provider_deterioration")
#: Truth rows that are not episodes of any sort (known, announced changes).
KNOWN_CHANGE_KINDS: Final[tuple[str, ...]] = ("reconfiguration",)
