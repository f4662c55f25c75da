"""Errors raised while reading user files."""

from __future__ import annotations

from pathlib import Path


class FatalInputError(Exception):
    """A whole file is refused: the message is one line saying what is wrong and what to do.

    Attributes
    ----------
    file:
        The file that was refused, as given by the caller.
    """

    def __init__(self, file: str | Path, message: str):
        self.file = str(file)
        self.message = " ".join(message.split())  # always one line
        super().__init__(f"{self.file}: {self.message}")
