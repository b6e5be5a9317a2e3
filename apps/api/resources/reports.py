"""Reports for managers: time per step over a date range, and the timers left running (the dashboard's flag)."""
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from flask import Blueprint, current_app
from pydantic import BaseModel, Field, model_validator

from ..db import Queries, read_cursor
from ..web.auth import require_role
from ..web.errors import ValidationError
from ..web.openapi import documented
from ..web.validation import OMITTED, NoQuery, Query, accepts

bp = Blueprint("reports", __name__, url_prefix="/api/reports")
queries = Queries("reports.sql")

MAX_RANGE_DAYS = 366
RUNNING_TIMERS_LISTED = 100


class StepTimesRow(BaseModel):
    """The time of the steps of one process, machine or operator."""

    key: int | None = Field(description="The process, machine or operator id (null: steps without a machine, "
                                        "or unassigned)")
    label: str
    steps: int
    worked_median_seconds: float = Field(description="Seconds (0.1 s resolution)")
    worked_p90_seconds: float = Field(description="Seconds (0.1 s resolution)")
    paused_seconds_by_reason: dict[str, float] = Field(description="Paused seconds per pause reason code")


class StepTimes(BaseModel):
    """Time per step over a date range, by process, machine or operator."""

    items: list[StepTimesRow]


class RunningTimer(BaseModel):
    """A step whose clock has run too long."""

    step_id: int = OMITTED
    job_id: int = OMITTED
    job_number: str = OMITTED
    name: str = OMITTED
    assigned_to: int | None = None
    machine_id: int | None = None
    running_since: datetime = OMITTED
    running_seconds: int = OMITTED
    over_limit: bool = OMITTED
    past_shift_end: bool = OMITTED


class RunningTimers(BaseModel):
    """The timers left running past the limit or the shift's end."""

    limit_hours: float
    shift_end: str = Field(description="HH:MM")
    shift_timezone: str
    total: int = Field(description=f"How many are flagged (at most {RUNNING_TIMERS_LISTED} listed)")
    items: list[RunningTimer]


class StepTimesQuery(Query):
    """A date range (inclusive, UTC days) and a grouping."""

    from_: date = Field(alias="from", description="First day (YYYY-MM-DD, UTC) of steps completed")
    to: date = Field(description=f"Last day (inclusive); at most {MAX_RANGE_DAYS} days after from")
    by: Literal["process", "machine", "operator"] = "process"

    @model_validator(mode="after")
    def _bounded(self) -> "StepTimesQuery":
        if self.to < self.from_:
            raise ValidationError([{"field": "to", "message": "must not be before from"}])
        if (self.to - self.from_).days + 1 > MAX_RANGE_DAYS:
            raise ValidationError([{"field": "to", "message": f"the range is at most {MAX_RANGE_DAYS} days"}])
        return self


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@bp.get("/step-times")
@documented(schema=StepTimes)
@require_role("manager")
@accepts(query=StepTimesQuery)
def get_step_times(query: StepTimesQuery) -> dict[str, Any]:
    """Report time per step over the steps completed from `from` to `to`, grouped by process, machine or operator.

    Per group: how many steps, the median and 90th percentile of their worked seconds, and their paused
    seconds per reason. Skipped steps and steps still open are not counted; a reopened step counts once it
    is completed again, with all of its time.
    """
    params = {"by": query.by, "start": _utc_midnight(query.from_),
              "stop": _utc_midnight(query.to + timedelta(days=1))}
    with read_cursor() as cur:
        cur.execute(queries.sort_in_memory)
        cur.execute(queries.step_times, params)
        return {"items": cur.fetchall()}


@bp.get("/running-timers")
@documented(schema=RunningTimers)
@require_role("manager")
@accepts(query=NoQuery)
def list_running_timers(query: NoQuery) -> dict[str, Any]:
    """List the steps whose work timer runs longer than STEP_TIMER_LIMIT_HOURS or past the end of a shift.

    A step in progress is flagged `over_limit` when its running work segment began more than the limit ago,
    and `past_shift_end` when it began before the most recent SHIFT_END (HH:MM in SHIFT_TIMEZONE). Oldest
    first; the dashboard shows them.
    """
    config = current_app.config
    params = {"limit_seconds": config["STEP_TIMER_LIMIT_HOURS"] * 3600, "shift_end": config["SHIFT_END"],
              "tz": config["SHIFT_TIMEZONE"], "limit": RUNNING_TIMERS_LISTED}
    with read_cursor() as cur:
        cur.execute(queries.running_timers, params)
        rows = cur.fetchall()
    total = rows[0]["total"] if rows else 0
    items = [{key: value for key, value in row.items() if key not in ("total", "last_shift_end")} for row in rows]
    return {"limit_hours": config["STEP_TIMER_LIMIT_HOURS"], "shift_end": config["SHIFT_END"],
            "shift_timezone": config["SHIFT_TIMEZONE"], "total": total, "items": items}
