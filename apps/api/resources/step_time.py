"""Pause reasons (any role reads, admin adds) and a step's time segments."""
from datetime import datetime
from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit, step_time
from ..web.auth import require_role
from ..web.errors import ApiError
from ..web.idempotency import idempotent
from ..web.openapi import documented
from ..web.validation import Body, Code, Name100, NoQuery, accepts

bp = Blueprint("step_time", __name__, url_prefix="/api")
queries = Queries("pause_reasons.sql")

class PauseReason(BaseModel):
    """A reason a step may be paused for."""

    code: str
    label: str


class PauseReasons(BaseModel):
    """The pause reasons, in the order offered."""

    items: list[PauseReason]


class TimeSegment(BaseModel):
    """One segment of a step's time: work or a pause."""

    kind: Literal["work", "pause"]
    started_at: datetime
    ended_at: datetime | None = Field(description="null while the segment runs")
    user_id: int | None = Field(description=(
        "Who started the segment; null for work recorded before pauses existed (migration 0110)"))
    reason: str | None = Field(description="A pause's reason code (null for work)")
    note: str | None = Field(None, description="A pause's note")


class StepTime(BaseModel):
    """A step's segments of work and pause, oldest first."""

    items: list[TimeSegment]


class PauseReasonIn(Body):
    """A new pause reason."""

    code: Code
    label: Name100


@bp.get("/pause-reasons")
@documented(schema=PauseReasons)
@require_role("viewer")
@accepts(query=NoQuery)
def list_pause_reasons(query: NoQuery) -> dict[str, Any]:
    """List the reasons a step may be paused for, in the order to offer them."""
    with read_cursor() as cur:
        cur.execute(queries.list_pause_reasons)
        return {"items": cur.fetchall()}


@bp.post("/pause-reasons")
@documented(status=201, schema=PauseReason, responses={409: "The code is taken"})
@require_role("admin")
@idempotent
@accepts(body=PauseReasonIn)
def create_pause_reason(body: PauseReasonIn) -> tuple[dict[str, Any], int]:
    """Add a pause reason (offered after the existing ones)."""
    with cursor() as cur:
        cur.execute(queries.insert_pause_reason, body.model_dump())
        reason = one_row(cur)
        audit.record_create(cur, "pause_reasons", None, body.model_dump())
    return reason, 201


@bp.get("/steps/<int:step_id>/time")
@documented(schema=StepTime)
@require_role("viewer")
@accepts(query=NoQuery)
def get_step_time(step_id: int, query: NoQuery) -> dict[str, Any]:
    """List a step's segments of work and pause, oldest first (times are the database's clock)."""
    with read_cursor() as cur:
        cur.execute(queries.step_exists, {"step_id": step_id})
        if not one_row(cur)["found"]:
            raise ApiError(404, "No step has this id.")
        return {"items": step_time.segments(cur, step_id)}
