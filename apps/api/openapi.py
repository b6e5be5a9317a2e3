"""The OpenAPI 3.1 document, built from the URL map and the views' validation models."""
import inspect
import re

from pydantic import BaseModel, create_model

from .auth import ROLES

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
REF = "#/components/schemas/{model}"
PROBLEM = {"$ref": "#/components/schemas/Problem"}
ERROR_STATUSES = {
    "400": "Malformed body or query", "401": "Missing, invalid, expired or revoked token",
    "403": "Role not allowed", "404": "Unknown id", "409": "Conflict", "413": "Body too large",
    "422": "Invalid values", "429": "Rate limited", "503": "Database unavailable or pool exhausted",
}
PUBLIC_ERRORS = ("400", "404", "413", "422", "429", "503")


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


def _add_model(components, model):
    schema = model.model_json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _query_parameters(components, model):
    schema = model.model_json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _success(method, view, components):
    status = getattr(view, "success_status", None) or {"POST": 201, "DELETE": 204}.get(method, 200)
    if status == 204:
        return str(status), {"description": "Done"}
    schema = getattr(view, "response_schema", None) or {"type": "object"}
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        schema = _add_model(components, schema)
    return str(status), {"description": "Success", "content": {"application/json": {"schema": schema}}}


def _operation(rule, method, view, components):
    doc, _, details = inspect.cleandoc(view.__doc__ or rule.endpoint).partition("\n")
    role = getattr(view, "required_role", None)
    operation = {"operationId": f"{rule.endpoint}.{method.lower()}", "summary": doc,
                 "tags": [rule.endpoint.split(".")[0]], "parameters": [], "responses": {}}
    for converter, name in _CONVERTER.findall(rule.rule):
        schema = {"type": "integer", "minimum": 1} if converter == "int" else {"type": "string"}
        if converter == "uuid":
            schema = {"type": "string", "format": "uuid"}
        if converter == "role":
            schema = {"type": "string", "enum": list(ROLES)}
        operation["parameters"].append({"name": name, "in": "path", "required": True, "schema": schema})
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
    errors = ERROR_STATUSES if role else {k: ERROR_STATUSES[k] for k in PUBLIC_ERRORS}
    for code, description in errors.items():
        operation["responses"].setdefault(code, {
            "description": description, "content": {"application/problem+json": {"schema": PROBLEM}}})
    details = details.strip()  # the docstring past its first line documents behaviour worth knowing
    if role:
        operation["security"] = [{"bearerAuth": []}]
        operation["x-required-role"] = role
        details = f"{details}\n\nNeeds the `{role}` role or higher.".lstrip()
        if getattr(view, "needs_fresh", False):
            operation["x-needs-fresh-login"] = True
    else:
        operation["security"] = []
    if details:
        operation["description"] = details
    return operation


def build_document(app):
    """Return the OpenAPI document for every /api route of `app`."""
    components = {"Problem": _problem_schema()}
    paths = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        path = _CONVERTER.sub(r"{\2}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, view, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Print shop production tracking API", "version": "1.0.0",
                 "description": "Errors are RFC 9457 problem+json. Lists take page and per_page (max 100)."},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


class Pagination(BaseModel):
    """The `pagination` object of every list."""

    page: int
    per_page: int
    total: int
    pages: int
    has_next: bool
    has_prev: bool


def page_model(item):
    """Return the response schema of a paginated list of `item` (a pydantic model or a JSON Schema dict)."""
    if isinstance(item, dict):
        return {"type": "object", "required": ["items", "pagination"],
                "properties": {"items": {"type": "array", "items": item},
                               "pagination": Pagination.model_json_schema()}}
    return create_model(f"{item.__name__}Page", items=(list[item], ...), pagination=(Pagination, ...))


def documented(status=None, schema=None, responses=None):
    """Attach OpenAPI details to a view: success status, response schema (dict or pydantic model), extra responses."""

    def decorator(view):
        if status is not None:
            view.success_status = status
        if schema is not None:
            view.response_schema = schema
        if responses:
            view.extra_responses = responses
        return view

    return decorator
