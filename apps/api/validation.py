"""Request validation with pydantic: bodies and query strings checked before any SQL runs."""
from functools import wraps
from typing import Annotated

from flask import request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from .errors import ApiError, ValidationError

# Query-string errors of these kinds mean the value could not even be read: 400, not 422.
_PARSING_ERRORS = ("int_parsing", "float_parsing", "bool_parsing", "date_parsing",
                   "date_from_datetime_parsing", "int_from_float", "json_invalid", "extra_forbidden")


def _no_nul(value):
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def Text(max_length=200, min_length=0):
    """A string type: stripped, NUL-free, bounded (PostgreSQL text cannot hold NUL)."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length,
                                            max_length=max_length), AfterValidator(_no_nul)]


Name = Text(200, 1)
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), AfterValidator(_no_nul)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Body(BaseModel):
    """Base for request bodies: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Base for query strings: unknown parameters are rejected."""

    model_config = ConfigDict(extra="forbid")


class NoQuery(Query):
    """A query string that must be empty (any parameter is unknown: 400)."""


class PageQuery(Query):
    """`?page=&per_page=` of every list."""

    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(20, ge=1, le=100)


def _field_errors(exc):
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        errors.append({"field": field, "message": error["msg"]})
    return errors


def parse_body(model):
    """Return the JSON body validated as `model` (400 when it is not a JSON object, 422 when invalid)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object (Content-Type: application/json).")
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(_field_errors(exc))


def parse_query(model):
    """Return the query string validated as `model` (400 unreadable, 422 out of range)."""
    raw = {}
    for key in request.args:
        values = request.args.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        malformed = any(error["type"] in _PARSING_ERRORS or error["type"].endswith("_type")
                        for error in exc.errors())
        raise ValidationError(_field_errors(exc), status=400 if malformed else 422,
                              detail="The query string has invalid values.")


def accepts(body=None, query=None):
    """Validate the body and/or query string and pass them to the view as `body=` and `query=`."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            return view(*args, **kwargs)

        wrapper.body_model = body
        wrapper.query_model = query
        return wrapper

    return decorator
