"""The errors a rule raises, each with the HTTP status it means (web/errors.py turns them into problem+json)."""
from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An error with an HTTP status that a client can act on."""

    def __init__(self, status: int, detail: str, title: str | None = None, errors: list[dict[str, Any]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.errors = errors
        self.headers: dict[str, str] = dict(headers or {})


class ValidationError(ApiError):
    """A body or query parameter failed validation (per-field `errors`)."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 422,
                 detail: str = "The request has invalid values.") -> None:
        super().__init__(status, detail, errors=errors)
