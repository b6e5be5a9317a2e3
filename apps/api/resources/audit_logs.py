"""The audit trail for admins: read-only, filterable, newest first."""
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field

from ..db import Queries, read_cursor
from ..web.auth import require_role
from ..web.listing import Order, page_of
from ..web.openapi import documented, page_model
from ..web.rows import one_or_404
from ..web.validation import Id, Name50, Name64, PageQuery, accepts

bp = Blueprint("audit_logs", __name__, url_prefix="/api/audit-logs")
queries = Queries("audit_logs.sql")
NEWEST_FIRST = Order("created_at.desc", ["a.created_at", "a.id"], descending=True)
FAILED_NEWEST_FIRST = Order("attempted_at.desc", ["attempted_at", "id"], descending=True)

Action = Literal["create", "update", "delete", "import", "login", "logout"]


class AuditLog(BaseModel):
    """One recorded write: who, what, when, the changed fields and the client IP."""

    id: int
    user_id: int | None
    username: str | None
    action: Action
    entity: str
    entity_id: int | None
    changes: dict[str, Any]
    ip: str | None
    device_id: int | None = Field(None, description="The tablet a PIN session's write came through")
    device_name: str | None = None
    created_at: datetime


class AuditLogQuery(PageQuery):
    entity: Name50 | None = None
    entity_id: Id | None = None
    user_id: Id | None = None
    action: Action | None = None


@bp.get("")
@documented(schema=page_model(AuditLog))
@require_role("admin")
@accepts(query=AuditLogQuery)
def list_audit_logs(query):
    """List audit rows newest first, filtered by entity, entity id, user and action."""
    params = query.model_dump(include={"entity", "entity_id", "user_id", "action"})
    with read_cursor() as cur:
        return page_of(cur, queries.match_audit_logs, queries.list_audit_logs, params, query, NEWEST_FIRST)


class FailedLogin(BaseModel):
    """One failed login: the name tried, the client address, when (never the password)."""

    id: int
    username: str
    ip: str | None
    attempted_at: datetime


class FailedLoginQuery(PageQuery):
    username: Name64 | None = None
    ip: IPv4Address | IPv6Address | None = None


@bp.get("/failed-logins")
@documented(schema=page_model(FailedLogin))
@require_role("admin")
@accepts(query=FailedLoginQuery)
def list_failed_logins(query):
    """List failed logins newest first, filtered by the name tried and the client address (kept 90 days by default)."""
    params = {"username": query.username, "ip": str(query.ip) if query.ip else None}
    with read_cursor() as cur:
        return page_of(cur, queries.match_failed_logins, queries.list_failed_logins, params, query,
                       FAILED_NEWEST_FIRST)


@bp.get("/<int:audit_log_id>")
@documented(schema=AuditLog)
@require_role("admin")
def get_audit_log(audit_log_id):
    """Return one audit row."""
    with read_cursor() as cur:
        return one_or_404(cur, queries.get_audit_log, {"id": audit_log_id}, "audit log")
