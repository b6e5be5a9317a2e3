"""The caller's own notifications: list (optionally unread only), read one, mark read."""
from datetime import datetime
from typing import Literal, get_args

from flask import Blueprint, g
from pydantic import BaseModel, Field

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit
from ..web.auth import require_role
from ..web.etags import with_etag
from ..web.listing import Order, page_of
from ..web.openapi import Pagination, documented
from ..web.rows import one_or_404
from ..web.validation import PageQuery, accepts

bp = Blueprint("notifications", __name__, url_prefix="/api/notifications")
queries = Queries("notifications.sql")

NotificationKind = Literal["step_assigned", "job_status", "job_overdue", "system"]
KINDS: tuple[NotificationKind, ...] = get_args(NotificationKind)
NEWEST_FIRST = Order("created_at.desc", ["created_at", "id"], descending=True)


class Notification(BaseModel):
    """A notification as its owner sees it."""

    id: int
    kind: NotificationKind = Field(description=(
        "step_assigned: a step was assigned to you; job_status: a job one of your steps belongs to changed "
        "status (not by you); job_overdue: an open job you work on, or any open job for a manager, is past "
        "its due date (once per due date); system: a message from the operators of the service"))
    message: str
    job_id: int | None
    step_id: int | None
    is_read: bool
    created_at: datetime


class NotificationQuery(PageQuery):
    unread: bool = Field(False, description="true: only notifications not read yet")


class NotificationPage(BaseModel):
    """A page of the caller's notifications, with how many of all of them are unread."""

    items: list[Notification]
    pagination: Pagination
    unread: int


class MarkedAll(BaseModel):
    """How many notifications were marked read."""

    marked: int


@bp.get("")
@documented(schema=NotificationPage)
@require_role("viewer")
@accepts(query=NotificationQuery)
def list_notifications(query):
    """List the caller's notifications, newest first, with the count of unread ones (`unread`)."""
    params = {"user_id": g.user_id, "unread": query.unread}
    with read_cursor() as cur:
        page = page_of(cur, queries.match_notifications, queries.list_notifications, params, query, NEWEST_FIRST)
        cur.execute(queries.count_unread_notifications, params)
        page["unread"] = one_row(cur)["unread"]
    return page


@bp.get("/<int:notification_id>")
@documented(schema=Notification, etag=True)
@require_role("viewer")
def get_notification(notification_id):
    """Return one of the caller's notifications.

    Another user's notification is a 404, exactly like an unknown id, so ids do not leak.
    """
    with read_cursor() as cur:
        # The same 404 whether the id is unknown or another user's: ids do not leak.
        return with_etag(one_or_404(cur, queries.get_notification, {"id": notification_id, "user_id": g.user_id},
                                    "notification of yours"))


@bp.post("/<int:notification_id>/read")
@documented(status=200, schema=Notification, operation_id="markNotificationRead")
@require_role("viewer")
def mark_read(notification_id):
    """Mark one of the caller's notifications read (again is harmless)."""
    params = {"id": notification_id, "user_id": g.user_id}
    with cursor() as cur:
        notification = one_or_404(cur, queries.lock_notification, params, "notification of yours")
        if notification["is_read"]:
            return notification
        cur.execute(queries.mark_notification_read, params)
        notification = cur.fetchone()
        audit.record(cur, "update", "notifications", notification_id,
                     {"is_read": {"old": False, "new": True}})
    return notification


@bp.post("/read-all")
@documented(status=200, schema=MarkedAll, operation_id="markAllNotificationsRead")
@require_role("viewer")
def mark_all_read():
    """Mark every unread notification of the caller read."""
    with cursor() as cur:
        cur.execute(queries.mark_all_notifications_read, {"user_id": g.user_id})
        marked = one_row(cur)["marked"]
        if marked:
            audit.record(cur, "update", "notifications", None,
                         {"is_read": {"old": False, "new": True}, "marked": marked})
    return {"marked": marked}
