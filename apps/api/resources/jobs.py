"""Jobs with their steps: any role reads, a manager creates, changes and deletes."""
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Literal

from flask import Blueprint, Response, g
from psycopg2 import sql
from pydantic import BaseModel, Field, model_validator

from .. import db
from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit
from ..domain.steps import MAX_STEPS, insert_steps, reference_errors
from ..domain.workflow import JobStatus, Priority, check_job_transition, notify_status_change
from ..web.auth import has_role, require_role
from ..web.csv_stream import csv_response, wants_csv
from ..web.errors import ApiError, ValidationError
from ..web.etags import precondition, with_etag
from ..web.idempotency import idempotent
from ..web.listing import SEARCH_RULE, Order, like_pattern, page_of
from ..web.openapi import documented, page_model
from ..web.ratelimit import rate_limited
from ..web.rows import merged, one_or_404
from ..web.validation import OMITTED, Body, Id, Name, PageQuery, Text200, Text10000, accepts
from .step_schema import Step, StepIn

bp = Blueprint("jobs", __name__, url_prefix="/api/jobs")
queries = Queries("jobs.sql")
# The list pages through the count's own statement ({match} in list-jobs): the filters are written once, in match-jobs.
# GET /api/jobs with `Accept: text/csv`: every matching job, streamed from a server-side cursor in batches
# of EXPORT_BATCH_ROWS (memory stays at a batch); not audited, as no read is (the request log names the caller).
HEADER = ("job_number", "title", "customer", "status", "due_date", "priority", "steps")
EXPORT_BATCH_ROWS = 2000
EXPORT_DESCRIPTION = (
    "With `Accept: text/csv` (manager and up, else 403): every matching job, no paging, in the list's order, "
    "as `attachment; filename=\"jobs.csv\"`: a header row `job_number,title,customer,status,due_date,priority,"
    "steps`, then one row per job; `steps` is \"completed/total\" (completed counts skipped steps too, as "
    "steps_completed does), due_date YYYY-MM-DD or empty. A cell starting with = + - @ (a formula to a "
    "spreadsheet) is written with a leading '. Streamed: the first rows leave before the last are read.")


def _rows(statement: sql.Composed, params: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    for number, title, customer, status, due_date, priority, completed, total in db.stream(
            statement, params, EXPORT_BATCH_ROWS):
        yield (number, title, customer, status, due_date.isoformat() if due_date else None, priority,
               f"{completed}/{total}")


def may_export() -> None:
    """Refuse the export to a caller below manager (403)."""
    if not has_role("manager"):
        raise ApiError(403, "Exporting jobs as CSV needs the manager role or higher.")


def export_jobs(params: dict[str, Any], order: Any) -> Response:
    """Answer every job matching `params` in `order` as a streamed CSV attachment."""
    statement = sql.SQL(queries.export_jobs).format(match=sql.SQL(queries.match_jobs),
                                                    order_by=order.parts(False)["order_by"])
    return csv_response("jobs.csv", HEADER, _rows(statement, params))


FIELDS = ("customer_id", "title", "description", "status", "priority", "due_date")



class JobListItem(BaseModel):
    """A job as the list answers it: its fields and its progress."""

    id: int
    job_number: str
    customer_id: int
    customer_name: str
    title: str
    description: str | None = None
    status: JobStatus
    priority: Priority
    due_date: date | None
    created_by: int | None = None
    is_overdue: bool = OMITTED
    created_at: datetime = OMITTED
    updated_at: datetime = OMITTED
    steps_total: int = Field(description="How many steps the job has")
    steps_completed: int = Field(description="How many of them are completed or skipped")


class Job(JobListItem):
    """A job with its steps in order."""

    steps: list[Step]


class JobListQuery(PageQuery):
    """Filters and order of the job list (overdue=false keeps the jobs that are not overdue)."""

    status: JobStatus | None = None
    customer_id: Id | None = None
    overdue: bool | None = None
    due_from: date | None = Field(None, description="Jobs due on or after this day (none without a due date)")
    due_to: date | None = Field(None, description="Jobs due on or before this day (inclusive)")
    q: Text200 | None = Field(None, description=(
        "A whole job number (JOB-0000123, any case) finds that job exactly; anything else is a substring of "
        f"the job number, the title or the customer's name, any case; {SEARCH_RULE}"))
    sort: Literal["created_at", "updated_at", "due_date", "priority"] = Field("created_at", description=(
        "Each order is served by an index (migration 0050); priority ranks low < normal < high < urgent"))
    order: Literal["asc", "desc"] = Field("desc", description="Jobs without a due date come last")

    @model_validator(mode="after")
    def _due_range_in_order(self) -> "JobListQuery":
        if self.due_from and self.due_to and self.due_from > self.due_to:
            raise ValueError("due_from must be on or before due_to")
        return self


class JobCreate(Body):
    """A job and its steps in order (each step's step_order is its position, from 1)."""

    customer_id: Id
    title: Name
    description: Text10000 | None = None
    status: Literal["draft", "active"] = "draft"
    priority: Priority = "normal"
    due_date: date | None = None
    steps: list[StepIn] = Field(default_factory=list, max_length=MAX_STEPS)


class JobPatch(Body):
    """Change a job; status follows the legal-transition table (409 otherwise)."""

    # Omitted means unchanged; only description and due_date may be null (the other types have no None).
    customer_id: Id = OMITTED
    title: Name = OMITTED
    description: Text10000 | None = None
    status: JobStatus = Field(OMITTED, description=(
        "Legal changes (else 409): draft -> active, in_progress, cancelled; active -> draft, in_progress, "
        "on_hold, cancelled; in_progress -> on_hold, completed (only with no open steps), cancelled; "
        "on_hold -> active, in_progress, cancelled; cancelled -> draft; completed is final."))
    priority: Priority = OMITTED
    due_date: date | None = None


# The sort key of each order, then j.id. A missing due date sorts last either way: as infinity going up,
# as -infinity going down (both expressions are indexed, so a cursor is one index range).
SORT_KEYS = {
    ("created_at", "asc"): "j.created_at", ("created_at", "desc"): "j.created_at",
    ("updated_at", "asc"): "j.updated_at", ("updated_at", "desc"): "j.updated_at",
    ("due_date", "asc"): "COALESCE(j.due_date, 'infinity'::date)",
    ("due_date", "desc"): "COALESCE(j.due_date, '-infinity'::date)",
    ("priority", "asc"): "job_priority_rank(j.priority)", ("priority", "desc"): "job_priority_rank(j.priority)",
}
ORDERS = {(sort, order): Order(f"{sort}.{order}", [key, "j.id"], descending=order == "desc")
          for (sort, order), key in SORT_KEYS.items()}
# Filtered by status or customer, newest or oldest first: the filter column leads the keys, so the order
# is that of idx_jobs_status_created_at / idx_jobs_customer_created_at (one range, whatever the skew).
FILTERED_ORDERS = {(column, order): Order(f"{column},created_at.{order}", [f"j.{column}", "j.created_at", "j.id"],
                                          descending=order == "desc", filter_key=True)
                   for column in ("status", "customer_id") for order in ("asc", "desc")}


# A whole job number: looked up by the unique index. As a substring it would share the trigrams of every
# other job number (JOB-0...) and read a posting list as long as the table.
JOB_NUMBER = re.compile(r"JOB-[0-9]{7,}", re.IGNORECASE)


def _search(text):
    """Return (exact job number, ILIKE pattern) for `q`: one of them, or neither without a term."""
    if text and JOB_NUMBER.fullmatch(text):
        return text.upper(), None
    return None, like_pattern(text)


# Past this many customers named like q, their jobs are matched by a hashed subquery instead of a list of ids:
# a longer constant array costs more to plan (each element estimated) than the walk it would save.
CUSTOMER_IDS_LIMIT = 200


def job_filters(cur: Any, query: JobListQuery) -> dict[str, Any]:
    """Return the parameters of match-jobs for `query` (the customers named like q looked up first)."""
    job_number, pattern = _search(query.q)
    customer_ids = customer_pattern = None
    if pattern is not None:
        cur.execute(queries.customer_ids_named, {"pattern": pattern, "limit": CUSTOMER_IDS_LIMIT + 1})
        customer_ids = [row["id"] for row in cur.fetchall()]
        if len(customer_ids) > CUSTOMER_IDS_LIMIT:
            customer_ids, customer_pattern = None, pattern
    return {"status": query.status, "customer_id": query.customer_id, "overdue": query.overdue,
            "due_from": query.due_from, "due_to": query.due_to, "pattern": pattern, "job_number": job_number,
            "due_desc": query.sort == "due_date" and query.order == "desc",
            "customer_ids": customer_ids, "customer_pattern": customer_pattern}


def _order(query):
    if query.sort == "created_at":
        for column in ("customer_id", "status"):
            if getattr(query, column) is not None:
                return FILTERED_ORDERS[(column, query.order)]
    return ORDERS[(query.sort, query.order)]


@bp.get("")
@documented(schema=page_model(JobListItem), media={"text/csv": EXPORT_DESCRIPTION},
            responses={403: "CSV asked for by a viewer or operator"})
@require_role("viewer")
@rate_limited("jobs-list", "RATE_LIMIT_LISTS", by="user")
@accepts(query=JobListQuery)
def list_jobs(query):
    """List jobs with their progress, filtered by status, customer, overdue, due range and `q`, newest first.

    List items carry `steps_total` and `steps_completed`, not the steps: `GET /api/jobs/<id>` has them.
    With `Accept: text/csv`: every matching job as CSV (manager and up; see the text/csv answer).
    """
    as_csv = wants_csv()
    if as_csv:
        may_export()
    with read_cursor() as cur:
        params = job_filters(cur, query)
        if not as_csv:
            return page_of(cur, queries.match_jobs, queries.list_jobs, params, query, _order(query))
    return export_jobs(params, _order(query))


def _get_job(cur, job_id):
    return one_or_404(cur, queries.get_job, {"job_id": job_id}, "job")


def _lock_job(cur, job_id):
    """Lock the job; check If-Match against its version (read after the lock, see job-version)."""
    job = one_or_404(cur, queries.lock_job, {"job_id": job_id}, "job")
    cur.execute(queries.job_version, {"job_id": job_id})
    precondition(cur.fetchone())
    return job


def _customer_errors(cur, customer_id):
    cur.execute(queries.customer_exists, {"customer_id": customer_id})
    if cur.fetchone()["found"]:
        return []
    return [{"field": "customer_id", "message": f"no customer has id {customer_id}"}]


@bp.get("/<int:job_id>")
@documented(schema=Job, etag=True)
@require_role("viewer")
def get_job(job_id):
    """Return one job with its steps, its progress and its customer's name."""
    with read_cursor() as cur:
        return with_etag(_get_job(cur, job_id))


@bp.post("")
@documented(schema=Job)
@require_role("manager")
@idempotent
@accepts(body=JobCreate)
def create_job(body):
    """Create a job and its steps in one transaction (a failing step leaves no job behind)."""
    steps = [step.model_dump() for step in body.steps]
    with cursor() as cur:
        errors = _customer_errors(cur, body.customer_id)
        errors += reference_errors(cur, [(f"steps.{index}.", step) for index, step in enumerate(steps)])
        if errors:
            raise ValidationError(errors)
        fields = body.model_dump(exclude={"steps"})
        cur.execute(queries.insert_job, dict(fields, created_by=g.user_id))
        created = one_row(cur)
        insert_steps(cur, created["id"], body.steps, first_order=1)
        audit.record_create(cur, "jobs", created["id"],
                            dict(fields, job_number=created["job_number"], steps=steps or None))
        job = _get_job(cur, created["id"])
    return with_etag(job, 201, {"Location": f"/api/jobs/{job['id']}"})


@bp.patch("/<int:job_id>")
@documented(schema=Job, responses={409: "Illegal status transition"}, etag=True)
@require_role("manager")
@accepts(body=JobPatch)
def update_job(job_id, body):
    """Change a job's title, description, status, priority, due date or customer."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    with cursor() as cur:
        before = _lock_job(cur, job_id)
        if "customer_id" in changes:
            errors = _customer_errors(cur, changes["customer_id"])
            if errors:
                raise ValidationError(errors)
        if "status" in changes:
            check_job_transition(cur, job_id, before["status"], changes["status"])
        changed = audit.changed_fields(before, changes)
        if changed:
            cur.execute(queries.update_job, dict(merged(before, changes, FIELDS), job_id=job_id))
            audit.record(cur, "update", "jobs", job_id, changed)
            if "status" in changed:
                notify_status_change(cur, job_id)
        return with_etag(_get_job(cur, job_id))


@bp.delete("/<int:job_id>")
@documented(etag=True)
@require_role("manager")
def delete_job(job_id):
    """Delete a job with its steps."""
    with cursor() as cur:
        before = _lock_job(cur, job_id)
        cur.execute(queries.delete_job, {"job_id": job_id})
        audit.record_delete(cur, "jobs", before)
    return "", 204
