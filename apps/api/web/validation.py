"""Request validation with pydantic: bodies and query strings checked before any SQL runs.

Strict: in a body a JSON number is never a date, a float never an id, a string never a number or a boolean
(pydantic's strict JSON mode); in a query string an integer is written in digits, a boolean is true or
false and a date is YYYY-MM-DD (no "61.0" id, no "0" date, no "yes").
"""
import re
from functools import cache, wraps
from typing import Annotated, Any

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


def _stripped(min_length):
    def strip(value):
        value = _no_nul(value).strip()
        if len(value) < min_length:
            raise ValueError("must not be blank")
        return value

    return strip


def Text(max_length=200, min_length=0):
    """A string type: bounded as sent (what the document says), then stripped, NUL-free and not blank."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length),
                     AfterValidator(_stripped(min_length))]


def Password(min_length=1, max_length=1024):
    """A password as typed: never stripped (it is compared exactly as set), bounded and NUL-free."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]


# The sizes the models use, as types a checker can read (a call such as Text(200) is not a type to it).
Text50 = Annotated[str, StringConstraints(min_length=0, max_length=50), AfterValidator(_stripped(0))]
Text200 = Annotated[str, StringConstraints(min_length=0, max_length=200), AfterValidator(_stripped(0))]
Text500 = Annotated[str, StringConstraints(min_length=0, max_length=500), AfterValidator(_stripped(0))]
Text10000 = Annotated[str, StringConstraints(min_length=0, max_length=10000), AfterValidator(_stripped(0))]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_stripped(1))]
Name50 = Annotated[str, StringConstraints(min_length=1, max_length=50), AfterValidator(_stripped(1))]
Name64 = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_stripped(1))]
Name100 = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_stripped(1))]
Name500 = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_stripped(1))]
Password1 = Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_no_nul)]
Password8 = Annotated[str, StringConstraints(min_length=8, max_length=1024), AfterValidator(_no_nul)]
# The default of a field that may be left out but, when sent, never null (a PATCH's name, say): pydantic
# never validates a default, so the field's type keeps no None and a sent null is refused.
OMITTED: Any = None
# Surrounding whitespace is allowed (and stripped), as the pattern says.
Email = Annotated[str, StringConstraints(to_lower=True, max_length=254,
                                         pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"),
                  AfterValidator(_stripped(0))]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# A short machine-readable name (a process's or a pause reason's code).
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Body(BaseModel):
    """Base for request bodies: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Base for query strings: unknown parameters are rejected."""

    # Frozen: the defaults of an empty query string are validated once and shared (see parse_query).
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoQuery(Query):
    """A query string that must be empty (any parameter is unknown: 400)."""


class PageQuery(Query):
    """`?page=&per_page=` or `?cursor=` of every list."""

    page: int = Field(1, ge=1, le=1_000_000, description=(
        "Offset pagination; a page starting past row LIST_MAX_OFFSET (default 10,000) is a 400: use cursor"))
    per_page: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2000, description=(
        "pagination.next_cursor of the previous page (keyset: no row skipped or repeated while rows are "
        "added; repeat the same filters and sort). Takes precedence over page; a changed cursor is a 400"))


def _field_errors(exc):
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        errors.append({"field": field, "message": error["msg"]})
    return errors


NOT_AN_OBJECT = "The body must be a JSON object (Content-Type: application/json)."


def parse_body(model):
    """Return the JSON body validated as `model` (400 when it is not a JSON object, 422 when invalid).

    The body is parsed once, by pydantic (no json.loads before it); its size was bounded before it was read.
    """
    if not request.is_json:
        raise ApiError(400, NOT_AN_OBJECT)
    data = request.get_data()
    try:
        return model.model_validate_json(data, strict=True)
    except PydanticValidationError as exc:
        if any(not error["loc"] and error["type"] in ("json_invalid", "model_type") for error in exc.errors()):
            # pydantic also refuses JSON that is well formed (lone surrogates, deep nesting): those bodies are
            # objects with invalid values (422), the rest is malformed (400). Only refused bodies pay this.
            if not isinstance(request.get_json(silent=True), dict):
                raise ApiError(400, NOT_AN_OBJECT) from None
        raise ValidationError(_field_errors(exc)) from None


# How a query-string value of each JSON Schema kind must be written.
_QUERY_FORMS = {"integer": (re.compile(r"-?[0-9]+"), "an integer in digits"),
                "boolean": (re.compile(r"true|false"), "true or false"),
                "date": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "a date as YYYY-MM-DD")}


def _kinds(schema):
    options = schema.get("anyOf", [schema])
    return {"date" if option.get("format") == "date" else option.get("type") for option in options}


@cache
def _query_forms(model):
    """Return {parameter: (pattern, description)} for the parameters of `model` that are not text."""
    forms = {}
    for name, schema in model.model_json_schema()["properties"].items():
        kinds = _kinds(schema) - {"null"}
        if len(kinds) == 1 and next(iter(kinds)) in _QUERY_FORMS:
            forms[name] = _QUERY_FORMS[next(iter(kinds))]
    return forms


def _query_form_errors(model, raw):
    errors = []
    for name, (pattern, description) in _query_forms(model).items():
        values = raw.get(name, [])
        for value in values if isinstance(values, list) else [values]:
            if not pattern.fullmatch(value):
                errors.append({"field": name, "message": f"must be {description}"})
    return errors


@cache
def _empty_query(model):
    """Return `model` validated from no parameters, or None when it needs some (validated per request then)."""
    try:
        return model.model_validate({})
    except PydanticValidationError:
        return None


def parse_query(model):
    """Return the query string validated as `model` (400 unreadable, 422 out of range)."""
    if not request.query_string:
        empty = _empty_query(model)  # most reads send none: no parsing, no validation on the hot path
        if empty is not None:
            return empty
    raw = {}
    for key in request.args:
        values = request.args.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    form_errors = _query_form_errors(model, raw)
    if form_errors:
        raise ValidationError(form_errors, status=400, detail="The query string has unreadable values.")
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        malformed = any(error["type"] in _PARSING_ERRORS or error["type"].endswith("_type")
                        for error in exc.errors())
        raise ValidationError(_field_errors(exc), status=400 if malformed else 422,
                              detail="The query string has invalid values.") from None


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

        vars(wrapper).update(body_model=body, query_model=query)  # read by the OpenAPI document
        return wrapper

    return decorator
