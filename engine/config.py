"""The one configuration file: every setting of wardwatch, validated on load.

A configuration is a TOML file whose tables mirror the settings dataclasses of each module::

    [baselines]            engine.baselines.BaselineSettings (weekly series)
    [baselines_monthly]    the same, for monthly (workforce) series
    [combination]          engine.scoring.settings.CombinationSettings
    [indicators.<key>]     engine.scoring.settings.IndicatorSettings, per indicator
    [charts]               engine.charts.XmRSettings (Making Data Count display charts)
    [monitor]              engine.charts.MonitorSettings (prospective MDC charts)
    [chart_choice]         engine.charts.ChartChoiceSettings (which chart fits a series: rare events)
    [changepoint]          engine.changepoint.ChangePointSettings
    [peer_silence]         engine.detectors.silence.PeerSilence (silence judged against peers)
    [retrospective]        engine.scoring.retrospective.RetrospectiveSettings
    [store]                engine.store.StoreSettings
    [input]                engine.io.settings.InputSettings (date window, plausibility limits)
    [runtime]              engine.runtime.RuntimeSettings (threads; changes no result)
    [catalogue.<key>]      a trust's own indicators (fields of signals.Indicator)
    [provenance]           where the file came from (ProvenanceSettings; informational, not a setting)

Unknown keys are refused with the full dotted name and the nearest valid key; missing keys take
the documented defaults; every number must lie in its declared range (:mod:`engine.ranges`). ``wardwatch config show`` prints the full resolved configuration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from engine.baselines import BaselineSettings
from engine.changepoint import ChangePointSettings
from engine.charts import ChartChoiceSettings, MonitorSettings, XmRSettings
from engine.detectors.silence import PeerSilence
from engine.io.settings import InputSettings
from engine.ranges import check_ranges
from engine.runtime.settings import RuntimeSettings
from engine.scoring.retrospective import RetrospectiveSettings
from engine.scoring.settings import CombinationSettings, IndicatorSettings
from engine.settings import SettingsError, from_mapping, to_mapping
from engine.store import StoreSettings
from signals import CATALOGUE, Catalogue, CatalogueError

MONTHLY_BASELINES = BaselineSettings(
    warmup_periods=12, min_observed=8, guard_periods=2, periods_per_year=12.0, seasonal_fit_periods=24
)


@dataclass(frozen=True)
class ProvenanceSettings:
    """Where a configuration came from, as the threshold lab saved it.

    ``[provenance]`` is printed by ``wardwatch config check``. Informational: it changes no result
    and is left out of :meth:`Config.digest`.
    """

    source: str = field(default="", metadata={"doc": "what wrote the file (e.g. the threshold lab)"})
    saved_at: str = field(default="", metadata={"doc": "when it was saved (UTC, ISO 8601)"})
    saved_by: str = field(default="", metadata={"doc": "who saved it"})
    data_sha256: str = field(default="", metadata={"doc": "SHA-256 over the data files it was tuned on"})
    data_files: dict[str, str] = field(default_factory=dict, metadata={"doc": "role -> file tuned on"})
    chosen: dict[str, float] = field(default_factory=dict, metadata={"doc": "setting -> value chosen"})
    targets: dict[str, float] = field(default_factory=dict, metadata={"doc": "target false-alert rates"})
    simulated: dict[str, float] = field(
        default_factory=dict, metadata={"doc": "simulated figures at the chosen point (with MC errors)"}
    )
    simulation: dict[str, Any] = field(default_factory=dict, metadata={"doc": "the simulation's settings"})

    @property
    def empty(self) -> bool:
        """True when nothing is recorded (a hand-written or default configuration)."""
        return not (self.source or self.saved_at or self.data_sha256 or self.chosen)


@dataclass(frozen=True)
class Config:
    """Every setting of a wardwatch run (defaults documented on each settings class)."""

    baselines: BaselineSettings = field(default_factory=BaselineSettings)
    baselines_monthly: BaselineSettings = field(default_factory=lambda: MONTHLY_BASELINES)
    combination: CombinationSettings = field(default_factory=CombinationSettings)
    indicators: dict[str, IndicatorSettings] = field(default_factory=dict)
    charts: XmRSettings = field(default_factory=XmRSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    chart_choice: ChartChoiceSettings = field(default_factory=ChartChoiceSettings)
    changepoint: ChangePointSettings = field(default_factory=ChangePointSettings)
    peer_silence: PeerSilence = field(default_factory=PeerSilence)
    retrospective: RetrospectiveSettings = field(default_factory=RetrospectiveSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    input: InputSettings = field(default_factory=InputSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    catalogue: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)

    def build_catalogue(self) -> Catalogue:
        """The built-in catalogue extended with the trust's own indicators."""
        try:
            return CATALOGUE.extended(self.catalogue) if self.catalogue else CATALOGUE
        except CatalogueError as exc:
            raise SettingsError(f"catalogue: {exc}") from exc

    def indicator(self, key: str) -> IndicatorSettings:
        """Settings of one indicator (defaults when not configured)."""
        return self.indicators.get(key, IndicatorSettings())

    def to_dict(self) -> dict[str, Any]:
        """Plain TOML-ready mapping of the full configuration."""
        return to_mapping(self)

    def to_toml(self) -> str:
        """The full configuration as TOML text."""
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the configuration (recorded with every result).

        ``[provenance]`` is left out: it records where the settings came from, not a setting; so is
        ``[runtime]``: thread counts change no result.
        """
        data = {k: v for k, v in self.to_dict().items() if k not in ("provenance", "runtime")}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def replace(self, dotted: str, value: Any) -> Config:
        """A copy with one setting changed, e.g. ``replace("combination.concern_threshold", 4.0)``."""
        data = self.to_dict()
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        return config_from_mapping(data)


def config_from_mapping(data: Mapping[str, Any], source: str = "") -> Config:
    """Validate a mapping (a parsed TOML document) into a :class:`Config`."""
    try:
        config = from_mapping(Config, data)
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}" if source else str(exc)) from None
    where = f"{source}: " if source else ""
    try:
        check_ranges(config)
        _check_relations(config)
    except SettingsError as exc:
        raise SettingsError(f"{where}{exc}") from None
    catalogue = config.build_catalogue()
    unknown = sorted(k for k in config.indicators if k not in catalogue)
    if unknown:
        near = catalogue.nearest(unknown[0])
        hint = f" (did you mean indicators.{near}?)" if near else ""
        where = f"{source}: " if source else ""
        raise SettingsError(f"{where}unknown indicator indicators.{unknown[0]}{hint}")
    return config


def _check_relations(config: Config) -> None:
    """Settings that are valid alone but not together."""
    for name in ("baselines", "baselines_monthly"):
        b = getattr(config, name)
        if b.min_observed > b.warmup_periods:
            raise SettingsError(
                f"{name}.min_observed = {b.min_observed} is more than {name}.warmup_periods = "
                f"{b.warmup_periods}: no baseline could ever be ready"
            )
    sync = config.store.synchronous.upper()
    if sync not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise SettingsError(
            f"store.synchronous = {config.store.synchronous!r}: must be OFF, NORMAL, FULL or EXTRA"
        )


def load_config(path: str | Path | None) -> Config:
    """Read and validate a configuration file; ``None`` gives the defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{p}: no such configuration file") from None
    except IsADirectoryError:
        raise SettingsError(f"{p}: is a folder; give the configuration file") from None
    except PermissionError:
        raise SettingsError(f"{p}: cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(
            f"{p}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{p}: not valid TOML: {exc}") from None
    return config_from_mapping(data, source=str(p))


def save_config(config: Config, path: str | Path) -> Path:
    """Write the full configuration as TOML."""
    p = Path(path)
    p.write_text(config.to_toml(), encoding="utf-8")
    return p


def settings_sections() -> dict[str, type]:
    """Settings class of each top-level table (for documentation)."""
    return {f.name: f.type for f in dataclasses.fields(Config)}  # type: ignore[misc]
