"""Work queues: the caller's assigned steps across jobs, and a machine's waiting and running steps."""
from datetime import date, datetime

from flask import Blueprint, g
from pydantic import BaseModel, Field

from ..db import Queries, one_row, read_cursor
from ..domain.statuses import JobStatus, Priority, StepStatus
from ..web.auth import require_role
from ..web.errors import ApiError
from ..web.etags import pop_etag
from ..web.listing import Order, page_of
from ..web.openapi import documented, page_model
from ..web.validation import Id, PageQuery, accepts

bp = Blueprint("queues", __name__, url_prefix="/api")
queries = Queries("queues.sql")

# Running, paused, waiting, finished; then the job's urgency and due date ('infinity' when none: migration 0040),
# the job and the step's position: the columns of idx_job_steps_my_queue and idx_job_steps_machine_queue.
MOST_URGENT = Order("urgency", ["(CASE st.status WHEN 'in_progress' THEN 0 WHEN 'paused' THEN 1 WHEN 'pending' THEN 2 "
                                "ELSE 3 END)",
                                "st.job_urgency", "st.job_due_date", "st.job_id", "st.step_order"])


class QueuedStep(BaseModel):
    """A step with what a work list shows of its job."""

    id: int
    job_id: int
    step_order: int
    process_id: int
    name: str
    status: StepStatus
    assigned_to: int | None
    machine_id: int | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    worked_seconds: int = Field(description="Whole seconds of work, the running segment up to now included")
    paused_seconds: int = Field(description="Whole seconds paused, the running pause up to now included")
    pause_reason: str | None = Field(description="While paused: the pause reason's code")
    updated_at: datetime
    job_number: str
    title: str
    customer_name: str
    due_date: date | None
    priority: Priority
    job_status: JobStatus
    etag: str = Field(description="The step's strong ETag (as GET /api/steps/<id> answers it), for If-Match")


class MyStepsQuery(PageQuery):
    """Filters of the caller's work list."""

    status: StepStatus | None = None
    machine_id: Id | None = None


def _with_etags(page):
    """Give every row the step's ETag, exactly as GET /api/steps/<id> answers it (If-Match takes it)."""
    for item in page["items"]:
        item["etag"] = pop_etag(item)
    return page


@bp.get("/me/steps")
@documented(schema=page_model(QueuedStep))
@require_role("viewer")
@accepts(query=MyStepsQuery)
def list_my_steps(query):
    """List the steps assigned to the caller across jobs, most urgent first.

    Steps in progress first, then paused ones, then pending ones, then finished ones (completed or skipped);
    within each, the job's priority (urgent, high, normal, low), its due date (earliest first, none last),
    the job and the step's position.
    """
    params = {"user_id": g.user_id, "status": query.status, "machine_id": query.machine_id}
    with read_cursor() as cur:
        return _with_etags(page_of(cur, queries.match_my_steps, queries.list_my_steps, params, query, MOST_URGENT))


@bp.get("/machines/<int:machine_id>/queue")
@documented(schema=page_model(QueuedStep))
@require_role("viewer")
@accepts(query=PageQuery)
def list_machine_queue(machine_id, query):
    """List the steps waiting for, running or paused on a machine, in the order to work them.

    Running steps first, then paused ones, then waiting ones; each group by the job's priority, due date, the
    job and the step's position.
    """
    params = {"machine_id": machine_id}
    with read_cursor() as cur:
        cur.execute(queries.machine_exists, params)
        if not one_row(cur)["found"]:
            raise ApiError(404, "No machine has this id.")
        return _with_etags(page_of(cur, queries.match_machine_queue, queries.list_machine_queue, params, query,
                                   MOST_URGENT))
