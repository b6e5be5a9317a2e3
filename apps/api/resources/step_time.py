"""Pause reasons (any role reads, admin adds) and a step's time segments."""
from typing import Any

from flask import Blueprint

from ..db import Queries, cursor, read_cursor
from ..domain import audit, step_time
from ..web.auth import require_role
from ..web.errors import ApiError
from ..web.idempotency import idempotent
from ..web.openapi import documented
from ..web.validation import Body, Code, NoQuery, Text, accepts

bp = Blueprint("step_time", __name__, url_prefix="/api")
queries = Queries("pause_reasons.sql")

_TIME = {"type": ["string", "null"], "format": "date-time"}
PAUSE_REASON_SCHEMA = {"title": "PauseReason", "type": "object", "required": ["code", "label"],
                       "properties": {"code": {"type": "string"}, "label": {"type": "string"}}}
PAUSE_REASONS_SCHEMA = {"title": "PauseReasons", "type": "object", "required": ["items"],
                        "properties": {"items": {"type": "array", "items": PAUSE_REASON_SCHEMA}}}
SEGMENT_SCHEMA = {
    "title": "TimeSegment", "type": "object", "required": ["kind", "started_at", "ended_at", "user_id", "reason"],
    "properties": {
        "kind": {"type": "string", "enum": ["work", "pause"]},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": dict(_TIME, description="null while the segment runs"),
        "user_id": {"type": ["integer", "null"], "description": (
            "Who started the segment; null for work recorded before pauses existed (migration 0110)")},
        "reason": {"type": ["string", "null"], "description": "A pause's reason code (null for work)"},
        "note": {"type": ["string", "null"], "description": "A pause's note"},
    }}
SEGMENTS_SCHEMA = {"title": "StepTime", "type": "object", "required": ["items"],
                   "properties": {"items": {"type": "array", "items": SEGMENT_SCHEMA}}}


class PauseReasonIn(Body):
    """A new pause reason."""

    code: Code
    label: Text(100, 1)


@bp.get("/pause-reasons")
@documented(schema=PAUSE_REASONS_SCHEMA)
@require_role("viewer")
@accepts(query=NoQuery)
def list_pause_reasons(query: NoQuery) -> dict[str, Any]:
    """List the reasons a step may be paused for, in the order to offer them."""
    with read_cursor() as cur:
        cur.execute(queries.list_pause_reasons)
        return {"items": cur.fetchall()}


@bp.post("/pause-reasons")
@documented(status=201, schema=PAUSE_REASON_SCHEMA, responses={409: "The code is taken"})
@require_role("admin")
@idempotent
@accepts(body=PauseReasonIn)
def create_pause_reason(body: PauseReasonIn) -> tuple[dict[str, Any], int]:
    """Add a pause reason (offered after the existing ones)."""
    with cursor() as cur:
        cur.execute(queries.insert_pause_reason, body.model_dump())
        reason = cur.fetchone()
        audit.record_create(cur, "pause_reasons", None, body.model_dump())
    return reason, 201


@bp.get("/steps/<int:step_id>/time")
@documented(schema=SEGMENTS_SCHEMA)
@require_role("viewer")
@accepts(query=NoQuery)
def get_step_time(step_id: int, query: NoQuery) -> dict[str, Any]:
    """List a step's segments of work and pause, oldest first (times are the database's clock)."""
    with read_cursor() as cur:
        cur.execute(queries.step_exists, {"step_id": step_id})
        if not cur.fetchone()["found"]:
            raise ApiError(404, "No step has this id.")
        return {"items": step_time.segments(cur, step_id)}
