"""The OpenAPI 3.1 document, built from the URL map and the views' validation models."""
import inspect
import re
from typing import Any

from pydantic import BaseModel, Field, create_model

from .auth import ROLES

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
REF = "#/components/schemas/{model}"
PROBLEM = {"$ref": "#/components/schemas/Problem"}
ERROR_STATUSES = {
    "400": "Malformed body or query", "401": "Missing, invalid, expired or revoked token",
    "403": "Role not allowed", "404": "Unknown id", "409": "Conflict", "413": "Body too large",
    "414": "URI too long", "422": "Invalid values", "429": "Rate limited",
    "503": "Database unavailable or pool exhausted",
}
PUBLIC_ERRORS = ("400", "404", "413", "414", "422", "429", "503")
ETAG_HEADER = {"ETag": {"description": "The strong entity tag of the item's current version (If-Match takes it)",
                        "schema": {"type": "string"}, "required": True}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "Change only the version with this ETag (else 412); `*` or none: any version"}


# The header of every creating POST (web/idempotency.py), said here so that this module imports no view code.
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    "description": (
        "Makes this POST safe to retry (a UUID per submission attempt). The first successful answer to a key "
        "is kept 24 h per user: the same key with the same body answers it again, with "
        "`Idempotent-Replayed: true`, and creates nothing; the same key with another body (or path) is a 422. "
        "Two requests with one key at once create once (the second waits, then replays). A failed request "
        "keeps nothing: retrying its key runs again. A key that is not 1-255 visible ASCII characters is a 400."),
}


def _problem_schema():
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "message": {"type": "string"}}}},
        },
    }


def _allows_null(schema):
    kinds = schema.get("type")
    return (kinds == "null" or (isinstance(kinds, list) and "null" in kinds)
            or any(_allows_null(option) for option in schema.get("anyOf", []) + schema.get("oneOf", [])))


def _drop_impossible_defaults(schema):
    """Remove `"default": null` where null is not a valid value (an omitted PATCH field means "unchanged")."""
    if isinstance(schema, dict):
        if "default" in schema and schema["default"] is None and not _allows_null(schema):
            del schema["default"]
        for value in schema.values():
            _drop_impossible_defaults(value)
    elif isinstance(schema, list):
        for value in schema:
            _drop_impossible_defaults(value)
    return schema


def _model_schema(components, model):
    schema = _drop_impossible_defaults(model.model_json_schema(ref_template=REF))
    components.update(schema.pop("$defs", {}))
    return schema


def _add_model(components, model):
    components[model.__name__] = _model_schema(components, model)
    return {"$ref": REF.format(model=model.__name__)}


def operation_id(view):
    """Return the view's operationId: `view.operation_id`, else its name in camelCase (list_jobs -> listJobs)."""
    first, *rest = view.__name__.split("_")
    return getattr(view, "operation_id", None) or first + "".join(word.capitalize() for word in rest)


def _query_parameters(components, model):
    schema = _model_schema(components, model)
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _success(method, view, components):
    status = getattr(view, "success_status", None) or {"POST": 201, "DELETE": 204}.get(method, 200)
    if status == 204:
        return str(status), {"description": "Done"}
    schema = getattr(view, "response_schema", None)
    if schema is None:
        raise ValueError(f"{view.__name__} documents no response schema: use @documented(schema=...)")
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise TypeError(f"{view.__name__}: a response schema is a pydantic model (one way), not {schema!r}")
    success: dict[str, Any] = {"description": "Success",
                               "content": {"application/json": {"schema": _add_model(components, schema)}}}
    for media_type, description in getattr(view, "other_media", {}).items():  # the same answer as another type
        success["content"][media_type] = {"schema": {"type": "string", "description": description}}
    if getattr(view, "etag", False) and method != "DELETE":
        success["headers"] = ETAG_HEADER
    return str(status), success


def _operation(rule, method, view, components):
    doc, _, details = inspect.cleandoc(view.__doc__ or rule.endpoint).partition("\n")
    role = getattr(view, "required_role", None)
    operation = {"operationId": operation_id(view), "summary": doc,
                 "tags": [rule.endpoint.split(".")[0]], "parameters": [], "responses": {}}
    for converter, name in _CONVERTER.findall(rule.rule):
        schema: dict[str, Any] = {"type": "integer", "minimum": 1} if converter == "int" else {"type": "string"}
        if converter == "uuid":
            schema = {"type": "string", "format": "uuid"}
        if converter == "role":
            schema = {"type": "string", "enum": list(ROLES)}
        operation["parameters"].append({"name": name, "in": "path", "required": True, "schema": schema})
    if getattr(view, "etag", False) and method in ("PATCH", "DELETE"):
        operation["parameters"].append(IF_MATCH)
        operation["responses"]["412"] = {"description": "If-Match names another version", "content": {
            "application/problem+json": {"schema": PROBLEM}}}
    if getattr(view, "idempotent", False):
        operation["parameters"].append(IDEMPOTENCY_KEY)
    query_model = getattr(view, "query_model", None)
    if query_model is not None:
        operation["parameters"] += _query_parameters(components, query_model)
    body_model = getattr(view, "body_model", None)
    if body_model is not None:
        # A view that also takes no body at all says so with `view.body_required = False`.
        operation["requestBody"] = {"required": getattr(view, "body_required", True), "content": {
            "application/json": {"schema": _add_model(components, body_model)}}}
    status, success = _success(method, view, components)
    operation["responses"][status] = success
    for extra_status, description in getattr(view, "extra_responses", {}).items():
        operation["responses"][str(extra_status)] = {"description": description}
        if int(extra_status) >= 400:  # errors are problem+json whatever their status
            operation["responses"][str(extra_status)]["content"] = {
                "application/problem+json": {"schema": PROBLEM}}
    device_kind = getattr(view, "device_kind", None)  # a floor device's route (web/devices.py)
    errors = ERROR_STATUSES if role or device_kind else {k: ERROR_STATUSES[k] for k in PUBLIC_ERRORS}
    for code, description in errors.items():
        operation["responses"].setdefault(code, {
            "description": description, "content": {"application/problem+json": {"schema": PROBLEM}}})
    # A request line too long for the HTTP server (gunicorn: limit_request_line) never reaches the API: the
    # server answers it in its own words.
    operation["responses"]["414"] = {"description": "URI too long: answered by the HTTP server, not the API"}
    details = details.strip()  # the docstring past its first line documents behaviour worth knowing
    if role:
        operation["security"] = [{"bearerAuth": []}]
        operation["x-required-role"] = role
        details = f"{details}\n\nNeeds the `{role}` role or higher.".lstrip()
        if getattr(view, "needs_fresh", False):
            operation["x-needs-fresh-login"] = True
        elif getattr(view, "fresh_fields", None):
            # Only some changes need a fresh login: the body fields that do.
            operation["x-needs-fresh-login-fields"] = list(view.fresh_fields)
    elif device_kind:
        operation["security"] = [{"deviceToken": []}]
        operation["x-device-kind"] = device_kind
        details = f"{details}\n\nNeeds a registered {device_kind}'s device token as the bearer.".lstrip()
    else:
        operation["security"] = []
    if details:
        operation["description"] = details
    return operation


def build_document(app):
    """Return the OpenAPI document for every /api route of `app`."""
    components = {"Problem": _problem_schema()}
    _add_model(components, Pagination)
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        path = _CONVERTER.sub(r"{\2}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = _operation(rule, method, view, components)
            if operation["operationId"] in operation_ids:
                raise ValueError(f"two operations are called {operation['operationId']}")
            operation_ids.add(operation["operationId"])
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Print shop production tracking API", "version": "1.0.0",
                 "description": ("Errors are RFC 9457 problem+json. Lists take page and per_page (max 100) "
                                 "or cursor (pagination.next_cursor); search terms (q) need three letters "
                                 "or digits in a row (the trigram indexes' unit), else 422.")},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "deviceToken": {"type": "http", "scheme": "bearer", "bearerFormat": "device token",
                                "description": "A board's or tablet's token from POST /api/devices (shown once)"},
            },
        },
    }


class Pagination(BaseModel):
    """The `pagination` object of every list."""

    page: int
    per_page: int
    total: int = Field(description=(
        "Exact up to LIST_EXACT_COUNT_LIMIT matching rows (default 1,000); past it the planner's estimate "
        "(at least the limit + 1) and total_is_estimate is true. `Prefer: count=exact` asks for the exact "
        "count (answered with `Preference-Applied: count=exact`), bounded by the statement timeout (503)"))
    pages: int
    has_next: bool
    has_prev: bool
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")
    total_is_estimate: bool = Field(description="true when total is an estimate (see total)")


def page_model(item: type[BaseModel]) -> type[BaseModel]:
    """Return the model of a paginated list of `item` (named `<item>Page`: a component, a client class)."""
    return create_model(f"{item.__name__}Page", items=(list[item], ...),  # type: ignore[valid-type]  # made at run time
                        pagination=(Pagination, ...))


def documented(status=None, schema=None, responses=None, etag=False, operation_id=None, media=None):
    """Attach OpenAPI details to a view: success status, response schema (a pydantic model), extra
    responses; `etag`: the item answers an ETag and its PATCH or DELETE takes If-Match; `operation_id`: a name
    other than the view's own in camelCase; `media`: {media type: description} of other forms of the answer
    (Accept)."""

    def decorator(view):
        view.etag = etag
        if media:
            view.other_media = media
        if operation_id is not None:
            view.operation_id = operation_id
        if status is not None:
            view.success_status = status
        if schema is not None:
            view.response_schema = schema
        if responses:
            view.extra_responses = responses
        return view

    return decorator
