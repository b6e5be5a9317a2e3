"""A step's time: segments of work and pause, written with the database's clock as its status changes.

Every status change of a step closes its open segment (if any) and opens the next one in the same
transaction, at now() of that transaction: in_progress opens a work segment, paused a pause segment
(with its reason), anything else none. The step row keeps the totals of its closed segments, so its
time now is that total plus the open segment up to now() (the SQL function step_seconds(), migration 0110).
"""
from typing import Any, TypedDict

from ..db import Queries
from .workflow import TIMED_STEP

queries = Queries("step_time.sql")

Row = dict[str, Any]


class TimeChange(TypedDict):
    """What a status change adds to the step's row (parameters of steps.sql's update-step)."""

    status_changes: bool
    add_worked: float
    add_paused: float
    add_reason: str | None
    opens_timer: bool


UNCHANGED: TimeChange = {"status_changes": False, "add_worked": 0.0, "add_paused": 0.0, "add_reason": None,
                         "opens_timer": False}


def change_status(cur: Any, step: Row, status: str, user_id: int | None, reason: str | None = None,
                  note: str | None = None) -> TimeChange:
    """Close the step's open segment and open the one `status` starts; return what the step row gains."""
    change: TimeChange = dict(UNCHANGED, status_changes=True)  # type: ignore[assignment]
    if step["status"] in TIMED_STEP:
        cur.execute(queries.close_segment, {"step_id": step["id"]})
        closed = cur.fetchone()
        if closed is not None and closed["kind"] == "work":
            change["add_worked"] = closed["seconds"]
        elif closed is not None:
            change["add_paused"], change["add_reason"] = closed["seconds"], closed["reason"]
    if status in TIMED_STEP:
        kind = "work" if status == "in_progress" else "pause"
        cur.execute(queries.open_segment, {"step_id": step["id"], "kind": kind, "user_id": user_id,
                                           "reason": reason, "note": note})
        change["opens_timer"] = True
    return change


def reason_exists(cur: Any, code: str) -> bool:
    """Tell whether `code` is a known pause reason."""
    cur.execute(queries.pause_reason_exists, {"code": code})
    return bool(cur.fetchone()["found"])


def segments(cur: Any, step_id: int) -> list[Row]:
    """Return the step's segments, oldest first."""
    cur.execute(queries.list_segments, {"step_id": step_id})
    return list(cur.fetchall())


def notify(cur: Any, step_id: int, status: str, actor_id: int | None) -> None:
    """Tell who should know: a pause the job's creator, a reopen the step's assignee (never the actor)."""
    statement = {"paused": queries.notify_paused, "pending": queries.notify_reopened}.get(status)
    if statement is not None:
        cur.execute(statement, {"step_id": step_id, "actor_id": actor_id})
