"""Seeded synthetic trusts with injected closed-culture episodes, decoys, mess and ground truth.

>>> from synthetic import TrustSpec, generate
>>> trust = generate(TrustSpec(n_wards=12, n_weeks=60), seed=1)  # doctest: +SKIP

See ``synthetic/README.md`` for the model, the scenario parameters and their defaults.
"""

from synthetic.frames import write_trust
from synthetic.generator import IndicatorArrays, SyntheticTrust, generate
from synthetic.scenarios import Episode, ScenarioError
from synthetic.spec import (
    CULTURE_KINDS,
    DEFAULT_SCENARIOS,
    SCENARIO_KINDS,
    AcutePatientSettings,
    ClosedCultureSettings,
    DefinitionChangeSettings,
    MessSettings,
    ReportingMigrationSettings,
    ScenarioSettings,
    ScenarioSpecError,
    StaffingCrisisSettings,
    TrustSpec,
    WinterPressureSettings,
    format_scenarios,
    parse_scenarios,
)

__all__ = [
    "CULTURE_KINDS",
    "DEFAULT_SCENARIOS",
    "SCENARIO_KINDS",
    "AcutePatientSettings",
    "ClosedCultureSettings",
    "DefinitionChangeSettings",
    "Episode",
    "IndicatorArrays",
    "MessSettings",
    "ReportingMigrationSettings",
    "ScenarioError",
    "ScenarioSettings",
    "ScenarioSpecError",
    "StaffingCrisisSettings",
    "SyntheticTrust",
    "TrustSpec",
    "WinterPressureSettings",
    "format_scenarios",
    "generate",
    "parse_scenarios",
    "write_trust",
]
