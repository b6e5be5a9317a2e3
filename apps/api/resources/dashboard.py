"""The dashboard: counts, recent jobs and charts, each cached per user (see cache.py)."""
from typing import Any

from flask import Blueprint, g
from pydantic import Field

from ..db import Queries, read_cursor
from ..domain.statuses import JOB_STATUSES, MACHINE_STATUSES, STEP_STATUSES
from ..web.auth import require_role
from ..web.cached import cached_per_user
from ..web.openapi import documented
from ..web.validation import NoQuery, Query, accepts

bp = Blueprint("dashboard", __name__, url_prefix="/api/dashboard")
queries = Queries("dashboard.sql")

USER_COUNTS = ("admins", "managers", "operators", "viewers", "active")


def _counts(keys, description):
    return {"type": "object", "description": description, "required": list(keys),
            "properties": {key: {"type": "integer"} for key in keys}}


STATS_SCHEMA = {"title": "DashboardStats", "type": "object", "properties": {
    "jobs": _counts(JOB_STATUSES + ("total", "overdue"),
                    "Jobs per status; overdue: not completed or cancelled, due before today (UTC)."),
    "tasks": _counts(STEP_STATUSES, "The caller's own assigned steps per status."),
    "machines": _counts(MACHINE_STATUSES, "Machines in service (is_active) per status."),
    "users": _counts(USER_COUNTS, "Users per role, deactivated ones included; active: the active users.")}}
CHART_SCHEMA = {"title": "Chart", "type": "object", "properties": {
    "labels": {"type": "array", "items": {"type": "string"}},
    "values": {"type": "array", "items": {"type": "integer"}}}}
RECENT_JOB_SCHEMA = {"title": "RecentJob", "type": "object", "properties": {
    "id": {"type": "integer"}, "job_number": {"type": "string"}, "title": {"type": "string"},
    "status": {"type": "string", "enum": list(JOB_STATUSES)}, "customer_name": {"type": "string"},
    "due_date": {"type": ["string", "null"], "format": "date"},
    "created_at": {"type": "string", "format": "date-time"}}}
RECENT_JOBS_SCHEMA = {"title": "RecentJobs", "type": "object",
                      "properties": {"items": {"type": "array", "items": RECENT_JOB_SCHEMA}}}
OVERDUE_JOB_SCHEMA = {"title": "OverdueJob", "type": "object", "properties": {
    "id": {"type": "integer"}, "job_number": {"type": "string"}, "title": {"type": "string"},
    "status": {"type": "string", "enum": list(JOB_STATUSES)}, "priority": {"type": "string"},
    "customer_name": {"type": "string"}, "due_date": {"type": "string", "format": "date"},
    "days_overdue": {"type": "integer", "description": "Days since the due date (UTC), at least 1"}}}
OVERDUE_JOBS_SCHEMA = {"title": "OverdueJobs", "type": "object", "required": ["items", "on_hold", "counts"],
                       "properties": {
    "items": {"type": "array", "items": OVERDUE_JOB_SCHEMA, "description": (
        "Overdue jobs that need action (draft, active, in progress): the most urgent priority first, then "
        "the most recently due (still rescuable today), then the newest id")},
    "on_hold": {"type": "array", "items": OVERDUE_JOB_SCHEMA,
                "description": "Overdue jobs on hold, apart, in the same order"},
    "counts": _counts(("needs_action", "on_hold"), "How many overdue jobs there are of each kind")}}


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
@documented(schema=STATS_SCHEMA, operation_id="getDashboardStats")
@require_role("viewer")
@accepts(query=NoQuery)
@cached_per_user(ttl="CACHE_TTL_STATS")
def get_stats(query):
    """Return job, task (the caller's own steps), machine and user counts."""
    with read_cursor() as cur:
        cur.execute(queries.get_stats, {"user_id": g.user_id})
        row = cur.fetchone()
    jobs = _pick(row["jobs"], JOB_STATUSES)
    jobs.update(total=sum(jobs.values()), overdue=row["overdue"])
    return {"jobs": jobs, "tasks": _pick(row["tasks"], STEP_STATUSES),
            "machines": _pick(row["machines"], MACHINE_STATUSES), "users": _pick(row["users"], USER_COUNTS)}


@bp.get("/recent-jobs")
@documented(schema=RECENT_JOBS_SCHEMA)
@require_role("viewer")
@accepts(query=RecentJobsQuery)
@cached_per_user(ttl="CACHE_TTL_RECENT_JOBS")
def list_recent_jobs(query):
    """Return the newest jobs with their customer's name, newest first."""
    with read_cursor() as cur:
        cur.execute(queries.list_recent_jobs, {"limit": query.limit})
        return {"items": cur.fetchall()}


@bp.get("/overdue-jobs")
@documented(schema=OVERDUE_JOBS_SCHEMA)
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
        return dict(lists, counts=cur.fetchone())


@bp.get("/chart/jobs-by-status")
@documented(schema=CHART_SCHEMA)
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
@documented(schema=CHART_SCHEMA)
@require_role("viewer")
@accepts(query=JobsByMonthQuery)
@cached_per_user(ttl="CACHE_TTL_JOBS_BY_MONTH")
def get_jobs_by_month(query):
    """Return the number of jobs created in each of the last `months` months (UTC), oldest first."""
    with read_cursor() as cur:
        cur.execute(queries.count_jobs_by_month, {"months": query.months})
        rows = cur.fetchall()
    return {"labels": [row["month"].strftime("%Y-%m") for row in rows], "values": [row["n"] for row in rows]}
