"""Small concurrency helpers for pipelined runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class OnceJob(Generic[T]):
    """A computation run once, by whichever thread asks first; a later caller of :meth:`result`
    waits for it (or re-raises its error). Lets the thread that is idle first take it on."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute: Callable[[], T] | None = compute
        self._lock = threading.Lock()
        self._done: Future[T] = Future()

    def run(self) -> None:
        """Compute now unless another thread has started: then return at once."""
        with self._lock:
            compute, self._compute = self._compute, None
        if compute is None:
            return
        try:
            self._done.set_result(compute())
        except BaseException as exc:  # handed to result(), in whichever thread waits
            self._done.set_exception(exc)

    def result(self) -> T:
        """The result, computed here if nobody has started it."""
        self.run()
        return self._done.result()
