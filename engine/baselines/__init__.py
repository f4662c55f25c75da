"""Causal baselines: expected rate and overdispersion of every series from earlier data only.

Public API: :class:`BaselineSettings`, :class:`Baseline`, :func:`fit_baselines`,
:func:`segment_starts`. See :mod:`engine.baselines.fit` for the method.
"""

from engine.baselines.fit import Baseline, BaselineSettings, fit_baselines, segment_starts

__all__ = ["Baseline", "BaselineSettings", "fit_baselines", "segment_starts"]
