"""Reading and validating user files: observations, ward register, events; the MHSDS importer.

Public API::

    from engine.io import load_dataset, FatalInputError
    result = load_dataset("observations.csv", "wards.csv", events="events.csv")
    print(result.summary())
    result.observations   # engine.panel.OBSERVATION_SCHEMA, sorted ward_id, indicator, period
    result.coded          # the same rows as codes and arrays (engine.coded.CodedObservations)
    result.rejected       # file, line, column, value, code, reason, raw
"""

from engine.io.dataset import LoadResult, load_dataset
from engine.io.errors import FatalInputError
from engine.io.events import EVENT_KINDS, REBASE_KINDS, read_events
from engine.io.observations import read_observations
from engine.io.rejections import REASONS, REJECT_SCHEMA
from engine.io.wards import read_wards

__all__ = [
    "EVENT_KINDS",
    "REASONS",
    "REBASE_KINDS",
    "REJECT_SCHEMA",
    "FatalInputError",
    "LoadResult",
    "load_dataset",
    "read_events",
    "read_observations",
    "read_wards",
]
