"""GET /api/openapi.json: the machine-readable contract."""
from typing import Any

from flask import Blueprint, current_app
from pydantic import BaseModel

from ..web.openapi import build_document, documented

bp = Blueprint("openapi", __name__, url_prefix="/api")


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any] = {}


@bp.get("/openapi.json")
@documented(schema=OpenApiDocument, operation_id="getOpenapiDocument")
def get_openapi():
    """Return the OpenAPI 3.1 document of this API."""
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = current_app.extensions["openapi_document"] = build_document(current_app)
    return document
