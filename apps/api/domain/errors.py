"""The errors a rule raises, each with the HTTP status it means (web/errors.py turns them into problem+json)."""


class ApiError(Exception):
    """An error with an HTTP status that a client can act on."""

    def __init__(self, status, detail, title=None, errors=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.errors = errors
        self.headers = headers or {}


class ValidationError(ApiError):
    """A body or query parameter failed validation (per-field `errors`)."""

    def __init__(self, errors, status=422, detail="The request has invalid values."):
        super().__init__(status, detail, errors=errors)
