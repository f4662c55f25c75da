"""Indicator catalogue: what wardwatch watches, why, and which way is worrying."""

from signals.catalogue import CATALOGUE, WARD_INDICATORS, Catalogue, CatalogueError, indicator_from_mapping
from signals.indicator import CULTURE_DOMAINS, DOMAINS, WARD_TYPES, Indicator

__all__ = [
    "CATALOGUE",
    "CULTURE_DOMAINS",
    "DOMAINS",
    "WARD_INDICATORS",
    "WARD_TYPES",
    "Catalogue",
    "CatalogueError",
    "Indicator",
    "indicator_from_mapping",
]
