"""A progress bar on stderr for long loads (files of ``MIN_BYTES`` or more); silent otherwise.

On a terminal the bar redraws in place; in a log (stderr not a terminal) one line is written per
quarter, so batch logs stay short. Only stderr is used: stdout stays the report.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Files smaller than this load in seconds: no bar.
MIN_BYTES = 256 * 1024 * 1024


class Progress:
    """Progress of one file through the loader's stages (bytes done of total per stage)."""

    def __init__(self, file: str, total_bytes: int, stream: TextIO | None = None, min_bytes: int = MIN_BYTES):
        self.file = file
        self.total = total_bytes
        self.stream = stream or sys.stderr
        self.active = total_bytes >= min_bytes
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stage = ""
        self._quarter = -1
        self._start = time.monotonic()

    def update(self, stage: str, done: int, total: int | None = None) -> None:
        """Report ``done`` bytes of ``total`` (default: the file size) in ``stage``."""
        if not self.active:
            return
        total = total or self.total or 1
        frac = min(max(done / total, 0.0), 1.0)
        if stage != self._stage:
            self._stage, self._quarter = stage, -1
        if self.tty:
            width = 30
            bar = "#" * int(frac * width)
            self.stream.write(
                f"\r{self.file}: {stage:<10} [{bar:<{width}}] {frac:4.0%} of {self.total / 1e9:.2f} GB"
            )
            self.stream.flush()
            if frac >= 1.0:
                self.stream.write("\n")
            return
        quarter = int(frac * 4)
        if quarter > self._quarter:
            self._quarter = quarter
            elapsed = time.monotonic() - self._start
            self.stream.write(f"{self.file}: {stage} {frac:.0%} ({elapsed:.0f} s)\n")
            self.stream.flush()

    def note(self, stage: str) -> None:
        """A stage without byte counts (parsing, validating)."""
        if self.active:
            self.stream.write(f"{self.file}: {stage} ...\n")
            self.stream.flush()
