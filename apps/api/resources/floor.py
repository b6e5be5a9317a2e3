"""What the floor's devices read: the wall board's feed (a board's token) and a tablet's operators (a tablet's)."""
from datetime import date, datetime

from flask import Blueprint, g
from pydantic import BaseModel, Field

from ..db import Queries, one_row, read_cursor
from ..web.cached import cached_per_user
from ..web.devices import require_device
from ..web.openapi import documented

bp = Blueprint("floor", __name__, url_prefix="/api")
queries = Queries("floor.sql")
RUNNING_LIMIT = 100
NEXT_PER_MACHINE = 3
DONE_LIMIT = 12


class BoardStep(BaseModel):
    """A step as the board shows it: its job number first."""

    step_id: int
    job_id: int
    job_number: str
    title: str
    step_name: str
    machine_id: int | None
    due_date: date | None
    priority: str
    late: bool = Field(description="The job is open and past its due date")
    started_at: datetime | None = None
    operator_name: str | None = None
    operator_username: str | None = None


class BoardMachine(BaseModel):
    id: int
    name: str
    status: str
    running: list[BoardStep]
    next: list[BoardStep] = Field(description=f"Up to {NEXT_PER_MACHINE} waiting steps, most urgent first")


class DoneStep(BaseModel):
    step_id: int
    job_number: str
    title: str
    step_name: str
    completed_at: datetime


class DoneToday(BaseModel):
    total: int
    items: list[DoneStep] = Field(description=f"The newest {DONE_LIMIT}")


class Board(BaseModel):
    """The wall board: every running step (newest start first), each machine's running and next steps, how
    many open jobs are late, and the steps completed today (UTC)."""

    running: list[BoardStep]
    machines: list[BoardMachine]
    late_jobs: int
    done_today: DoneToday


class TabletMachine(BaseModel):
    id: int
    name: str


class TabletOperator(BaseModel):
    id: int
    username: str
    full_name: str
    has_work_here: bool


class Tablet(BaseModel):
    """What a tablet shows before anyone signs in: itself, its machine and who may sign in on it."""

    device_id: int
    name: str
    machine: TabletMachine | None
    idle_seconds: int
    operators: list[TabletOperator] = Field(description=(
        "Active users (operator and up) with a PIN; those with work waiting on this machine first"))


@bp.get("/board")
@documented(schema=Board, operation_id="getBoard")
@require_device("board")
@cached_per_user("CACHE_TTL_BOARD")
def get_board():
    """Answer the wall board's feed (a board's device token as the bearer).

    Cached in each worker and dropped everywhere within a second of any change to a step, a job or a machine;
    an answer carries an ETag, so a board asking again with If-None-Match costs a 304 until something changes.
    """
    with read_cursor() as cur:
        cur.execute(queries.board_machines)
        machines = [dict(row, running=[], next=[]) for row in cur.fetchall()]
        cur.execute(queries.board_running, {"limit": RUNNING_LIMIT})
        running = cur.fetchall()
        cur.execute(queries.board_next, {"per_machine": NEXT_PER_MACHINE})
        waiting = cur.fetchall()
        cur.execute(queries.board_late)
        late = one_row(cur)["late"]
        cur.execute(queries.board_done_today, {"limit": DONE_LIMIT})
        done = cur.fetchall()
    by_id = {machine["id"]: machine for machine in machines}
    for step in running:
        if step["machine_id"] in by_id:
            by_id[step["machine_id"]]["running"].append(step)
    for step in waiting:
        if step["machine_id"] in by_id:
            by_id[step["machine_id"]]["next"].append(step)
    total = done[0]["total"] if done else 0
    # No time of its own in the answer: the same floor is the same bytes in every worker, so a board's ETag
    # from one worker is a 304 from another.
    return {"running": running, "machines": machines, "late_jobs": late,
            "done_today": {"total": total, "items": [{k: v for k, v in row.items() if k != "total"} for row in done]}}


@bp.get("/tablet")
@documented(schema=Tablet, operation_id="getTablet")
@require_device("tablet")
def get_tablet():
    """Answer what a tablet shows first (its device token as the bearer): its machine and who may sign in."""
    device = g.device
    with read_cursor() as cur:
        machine = None
        if device.machine_id is not None:
            cur.execute(queries.tablet_machine, {"machine_id": device.machine_id})
            machine = cur.fetchone()
        cur.execute(queries.tablet_operators, {"machine_id": device.machine_id})
        operators = cur.fetchall()
    return {"device_id": device.id, "name": device.name, "machine": machine, "idle_seconds": device.idle_seconds,
            "operators": operators}
