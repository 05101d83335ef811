"""The error a request gets: an HTTP status and a message."""

from __future__ import annotations

__all__ = ["ServiceError"]


class ServiceError(Exception):
    """An error for the client: an HTTP status and a message (and optional headers)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers
