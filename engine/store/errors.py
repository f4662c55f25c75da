"""Exceptions raised by the triage store; each carries a message fit to show a user verbatim."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every triage-store error."""


class StoreNotFoundError(StoreError):
    """The store file does not exist and the caller asked not to create it."""


class SchemaError(StoreError):
    """The file is not a wardwatch store, or was written by a newer wardwatch (schema too new)."""


class UnknownAlertError(StoreError, KeyError):
    """No alert with this ``alert_id`` is in the store."""

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"unknown alert {alert_id!r}")
        self.alert_id = alert_id

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class InvalidTransitionError(StoreError):
    """The requested lifecycle change is not allowed from the alert's current status."""


class StaleWriteError(StoreError):
    """The alert changed since the caller read it (``expected_version`` is not the current version).

    Attributes
    ----------
    alert_id : str
    expected_version : int
        The version the caller based its change on.
    current_version : int
        The version in the store now; re-read the alert, then decide again.
    """

    def __init__(self, alert_id: str, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"stale write on alert {alert_id!r}: you saw version {expected_version}, the store holds "
            f"version {current_version} (someone else changed it; reload and try again)"
        )
        self.alert_id = alert_id
        self.expected_version = expected_version
        self.current_version = current_version
