"""One way to cache what is built from a results folder: Streamlit's resource cache keyed on its content.

``cache_resource`` hands every session the same immutable object (no pickled copy), so frames and
chart specs built once serve every visitor until the results change (a new content key).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from dashboard.services.results import Results

T = TypeVar("T")


def cached_on_results(build: Callable[..., T], max_entries: int) -> Callable[..., T]:
    """``build(results, *args)`` cached by Streamlit on (results content key, *args).

    One ``st.cache_resource`` per ``build``, named after it (Streamlit keys a cache by the function's
    qualified name and source, which would otherwise be the same for every wrapper made here), and
    created on first use, so importing a service needs no Streamlit. ``args`` must be hashable; the
    results object itself is not hashed: its content key stands for it.
    """

    @functools.cache
    def cache() -> Callable[..., T]:
        import streamlit as st

        def load(key: str, *args: Hashable, _results: Results) -> T:
            return build(_results, *args)

        load.__name__ = f"cached_{build.__name__}"
        load.__qualname__ = f"{build.__module__}.{load.__name__}"
        return st.cache_resource(max_entries=max_entries, show_spinner=False)(load)

    def cached(results: Results, *args: Hashable) -> T:
        return cache()(results.key, *args, _results=results)

    cached.__doc__ = f":func:`{build.__name__}` cached on (results content key, arguments)."
    return cached
