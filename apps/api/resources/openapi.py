"""GET /api/openapi.json: the machine-readable contract."""
from flask import Blueprint, current_app

from ..web.openapi import build_document, documented

bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
@documented(schema={"title": "OpenApiDocument", "type": "object", "required": ["openapi", "info", "paths"],
                    "properties": {
    "openapi": {"type": "string"}, "info": {"type": "object"}, "paths": {"type": "object"},
    "components": {"type": "object"}}}, operation_id="getOpenapiDocument")
def get_openapi():
    """Return the OpenAPI 3.1 document of this API."""
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = current_app.extensions["openapi_document"] = build_document(current_app)
    return document
