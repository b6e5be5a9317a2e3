"""The dashboard: counts, recent jobs and charts, each cached per user (see web/cached.py)."""
from datetime import date, datetime
from typing import Any

from flask import Blueprint, g
from pydantic import BaseModel, Field, create_model

from ..db import Queries, one_row, read_cursor
from ..domain.statuses import JOB_STATUSES, MACHINE_STATUSES, STEP_STATUSES, JobStatus
from ..web.auth import require_role
from ..web.cached import cached_per_user
from ..web.openapi import documented
from ..web.validation import OMITTED, NoQuery, Query, accepts

bp = Blueprint("dashboard", __name__, url_prefix="/api/dashboard")
queries = Queries("dashboard.sql")

USER_COUNTS = ("admins", "managers", "operators", "viewers", "active")


def _counts(name: str, keys: tuple[str, ...], description: str) -> type[BaseModel]:
    """Return a model of one integer per key (made from the status tuples, so it never restates them)."""
    fields: dict[str, Any] = {key: (int, ...) for key in keys}
    return create_model(name, __doc__=description, **fields)


# Made at import from the status tuples: a checker sees them as values, not as types.
DashboardStats = create_model(
    "DashboardStats",
    jobs=(_counts("JobCounts", JOB_STATUSES + ("total", "overdue"),
                  "Jobs per status; overdue: not completed or cancelled, due before today (UTC)."), OMITTED),
    tasks=(_counts("TaskCounts", STEP_STATUSES, "The caller's own assigned steps per status."), OMITTED),
    machines=(_counts("MachineCounts", MACHINE_STATUSES, "Machines in service (is_active) per status."), OMITTED),
    users=(_counts("UserCounts", USER_COUNTS, "Users per role, deactivated ones included; active: the active users."),
           OMITTED),
)


class Chart(BaseModel):
    """A chart's labels and their values, in order."""

    labels: list[str] = OMITTED
    values: list[int] = OMITTED


class RecentJob(BaseModel):
    """A recent job with its customer's name."""

    id: int = OMITTED
    job_number: str = OMITTED
    title: str = OMITTED
    status: JobStatus = OMITTED
    customer_name: str = OMITTED
    due_date: date | None = None
    created_at: datetime = OMITTED


class RecentJobs(BaseModel):
    """The newest jobs, newest first."""

    items: list[RecentJob] = OMITTED


class OverdueJob(BaseModel):
    """An overdue job: open and due before today (UTC)."""

    id: int = OMITTED
    job_number: str = OMITTED
    title: str = OMITTED
    status: JobStatus = OMITTED
    priority: str = OMITTED
    customer_name: str = OMITTED
    due_date: date = OMITTED
    days_overdue: int = Field(OMITTED, description="Days since the due date (UTC), at least 1")


OverdueCounts = _counts("OverdueCounts", ("needs_action", "on_hold"), "How many overdue jobs there are of each kind")


class OverdueJobs(BaseModel):
    """The overdue jobs that need action, and those on hold."""

    items: list[OverdueJob] = Field(description=(
        "Overdue jobs that need action (draft, active, in progress): the most urgent priority first, then "
        "the most recently due (still rescuable today), then the newest id"))
    on_hold: list[OverdueJob] = Field(description="Overdue jobs on hold, apart, in the same order")
    counts: OverdueCounts  # type: ignore[valid-type]  # a model made from the keys at import


class RecentJobsQuery(Query):
    limit: int = Field(10, ge=1, le=100)


class OverdueJobsQuery(Query):
    limit: int = Field(10, ge=1, le=100, description="At most this many of each list")


class JobsByMonthQuery(Query):
    months: int = Field(12, ge=1, le=120)


def _pick(counts, keys):
    counts = counts or {}
    return {key: counts.get(key, 0) for key in keys}


@bp.get("/stats")
@documented(schema=DashboardStats, operation_id="getDashboardStats")
@require_role("viewer")
@accepts(query=NoQuery)
@cached_per_user(ttl="CACHE_TTL_STATS")
def get_stats(query):
    """Return job, task (the caller's own steps), machine and user counts."""
    with read_cursor() as cur:
        cur.execute(queries.get_stats, {"user_id": g.user_id})
        row = one_row(cur)
    jobs = _pick(row["jobs"], JOB_STATUSES)
    jobs.update(total=sum(jobs.values()), overdue=row["overdue"])
    return {"jobs": jobs, "tasks": _pick(row["tasks"], STEP_STATUSES),
            "machines": _pick(row["machines"], MACHINE_STATUSES), "users": _pick(row["users"], USER_COUNTS)}


@bp.get("/recent-jobs")
@documented(schema=RecentJobs)
@require_role("viewer")
@accepts(query=RecentJobsQuery)
@cached_per_user(ttl="CACHE_TTL_RECENT_JOBS")
def list_recent_jobs(query):
    """Return the newest jobs with their customer's name, newest first."""
    with read_cursor() as cur:
        cur.execute(queries.list_recent_jobs, {"limit": query.limit})
        return {"items": cur.fetchall()}


@bp.get("/overdue-jobs")
@documented(schema=OverdueJobs)
@require_role("viewer")
@accepts(query=OverdueJobsQuery)
@cached_per_user(ttl="CACHE_TTL_OVERDUE_JOBS")
def list_overdue_jobs(query: OverdueJobsQuery) -> dict[str, Any]:
    """Return the overdue jobs that need action first (most urgent, then most recently due) and those on hold.

    Overdue: open and due before today (UTC). `items` are the draft, active and in-progress ones; `on_hold`
    the ones on hold, apart, in the same order; `counts` how many of each there are.
    """
    with read_cursor() as cur:
        lists = {}
        for key, on_hold in (("items", False), ("on_hold", True)):
            cur.execute(queries.list_overdue_jobs, {"on_hold": on_hold, "limit": query.limit})
            lists[key] = cur.fetchall()
        cur.execute(queries.count_overdue_jobs)
        return dict(lists, counts=one_row(cur))


@bp.get("/chart/jobs-by-status")
@documented(schema=Chart)
@require_role("viewer")
@accepts(query=NoQuery)
@cached_per_user(ttl="CACHE_TTL_JOBS_BY_STATUS")
def get_jobs_by_status(query):
    """Return the number of jobs in each status, in workflow order."""
    with read_cursor() as cur:
        cur.execute(queries.count_jobs_by_status)
        counts = {row["status"]: row["n"] for row in cur.fetchall()}
    return {"labels": list(JOB_STATUSES), "values": [counts.get(status, 0) for status in JOB_STATUSES]}


@bp.get("/chart/jobs-by-month")
@documented(schema=Chart)
@require_role("viewer")
@accepts(query=JobsByMonthQuery)
@cached_per_user(ttl="CACHE_TTL_JOBS_BY_MONTH")
def get_jobs_by_month(query):
    """Return the number of jobs created in each of the last `months` months (UTC), oldest first."""
    with read_cursor() as cur:
        cur.execute(queries.count_jobs_by_month, {"months": query.months})
        rows = cur.fetchall()
    return {"labels": [row["month"].strftime("%Y-%m") for row in rows], "values": [row["n"] for row in rows]}
