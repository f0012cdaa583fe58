"""Errors shared by every app's services, mapped to HTTP by views and the API."""

from __future__ import annotations


class ConflictError(Exception):
    """The record changed since the caller read it; their save was not applied (409)."""

    def __init__(
        self,
        message: str = "Someone else changed this record while you were editing it. "
        "Reload to see their changes; your edits were not saved.",
    ) -> None:
        super().__init__(message)
        self.message = message
