"""Job steps: list and add a job's steps; start, pause, resume, complete, skip, reopen and assign one step."""
from typing import Any, Literal

from flask import Blueprint, g
from pydantic import Field, model_validator

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit, step_time
from ..domain.steps import MAX_STEPS, insert_steps, reference_errors
from ..domain.workflow import REOPEN_FROM, check_job_open, check_step_transition, follow_steps
from ..web.auth import has_role, require_role
from ..web.errors import ApiError, ValidationError
from ..web.etags import pop_etag, precondition, with_etag
from ..web.idempotency import idempotent
from ..web.listing import Order, page_of
from ..web.openapi import documented, page_model
from ..web.rows import merged, one_or_404
from ..web.validation import OMITTED, Body, Code, Id, Name500, PageQuery, Text500, accepts
from .step_schema import Step, StepIn

bp = Blueprint("steps", __name__, url_prefix="/api")
queries = Queries("steps.sql")
IN_ORDER = Order("step_order", ["step_order"])

class StepPatch(Body):
    """Start, pause, resume, complete or skip a step (its operator or a manager); reopen or assign it (a manager)."""

    # Omitted means unchanged; status may not be null (the type has no None), the others may.
    status: Literal["pending", "in_progress", "paused", "completed", "skipped"] = Field(OMITTED, description=(
        "pending -> in_progress (start) -> completed; in_progress -> paused (with pause_reason) -> "
        "in_progress (resume); pending, in_progress or paused -> skipped; completed or skipped -> pending "
        "(a manager's reopen, with reason); else 409. Only while the job is draft, active or in_progress "
        "(a reopen also on a completed or on-hold job: a completed job becomes in_progress again). The first "
        "start moves the job to in_progress, closing its last open step moves it to completed."))
    pause_reason: Code | None = Field(None, description="With status paused (required then): a code of "
                                      "GET /api/pause-reasons (an unknown code is 422)")
    note: Text500 | None = Field(None, description="With status paused: a free note on the pause")
    reason: Name500 | None = Field(None, description="With status pending (required then): why the "
                                        "step is reopened; recorded in the audit log")
    assigned_to: Id | None = None
    machine_id: Id | None = None

    @model_validator(mode="after")
    def _fits_status(self) -> "StepPatch":
        errors = []
        if self.status == "paused" and self.pause_reason is None:
            errors.append({"field": "pause_reason", "message": "is required to pause a step"})
        if self.status != "paused" and (self.pause_reason is not None or self.note is not None):
            errors.append({"field": "pause_reason" if self.pause_reason is not None else "note",
                           "message": "is only taken with status paused"})
        if self.status == "pending" and self.reason is None:
            errors.append({"field": "reason", "message": "is required to reopen a step"})
        if self.status != "pending" and self.reason is not None:
            errors.append({"field": "reason", "message": "is only taken with status pending (a reopen)"})
        if errors:
            raise ValidationError(errors)
        return self


@bp.get("/jobs/<int:job_id>/steps")
@documented(schema=page_model(Step))
@require_role("viewer")
@accepts(query=PageQuery)
def list_job_steps(job_id, query):
    """List a job's steps in order."""
    with read_cursor() as cur:
        one_or_404(cur, queries.get_job_status, {"job_id": job_id}, "job")
        return page_of(cur, queries.match_job_steps, queries.list_job_steps, {"job_id": job_id}, query, IN_ORDER)


@bp.post("/jobs/<int:job_id>/steps")
@documented(schema=Step, responses={409: "The job is completed or cancelled, or has 100 steps"})
@require_role("manager")
@idempotent
@accepts(body=StepIn)
def add_job_step(job_id, body):
    """Append a step to a job (notifying its assignee)."""
    with cursor() as cur:
        job = one_or_404(cur, queries.lock_job, {"job_id": job_id}, "job")
        errors = reference_errors(cur, [("", body.model_dump())])
        if errors:
            raise ValidationError(errors)
        check_job_open(job, "it takes no new steps")
        cur.execute(queries.next_step_order, {"job_id": job_id})
        step_order = one_row(cur)["step_order"]
        if step_order > MAX_STEPS:
            raise ApiError(409, f"A job has at most {MAX_STEPS} steps.")
        step = insert_steps(cur, job_id, [body], step_order)[0]
        etag = pop_etag(step)
        audit.record_create(cur, "job_steps", step["id"], {
            key: step[key] for key in ("job_id", "step_order", "process_id", "name", "assigned_to", "machine_id")})
    return step, 201, {"Location": f"/api/steps/{step['id']}", "ETag": etag}


@bp.get("/steps/<int:step_id>")
@documented(schema=Step, etag=True)
@require_role("viewer")
def get_step(step_id):
    """Return one step."""
    with read_cursor() as cur:
        return with_etag(one_or_404(cur, queries.get_step, {"step_id": step_id}, "step"))


def _lock_step(cur, step_id):
    """Lock the step's job, then the step (always in this order); 404 when either is gone; check If-Match.

    Return the job, the step and the step's ETag.
    """
    cur.execute(queries.lock_job_of_step, {"step_id": step_id})
    job = cur.fetchone()
    cur.execute(queries.lock_step, {"step_id": step_id})
    step = cur.fetchone()
    if job is None or step is None:
        raise ApiError(404, "No step has this id.")
    return job, step, precondition(step)


def _check_may_execute(cur: Any, job: dict[str, Any], step: dict[str, Any], status: str) -> None:
    if status == "pending" and step["status"] in REOPEN_FROM and not has_role("manager"):
        raise ApiError(403, "Only a manager reopens a completed or skipped step.")
    if not has_role("manager") and step["assigned_to"] != g.user_id:
        raise ApiError(403, "Only the step's assigned operator or a manager may change its status.")
    cur.execute(queries.role_may_execute, {"role": g.role, "process_id": step["process_id"]})
    if not cur.fetchone()["allowed"]:
        raise ApiError(403, f"The {g.role} role may not execute steps of process {step['process_id']}.")
    check_step_transition(job, step, status)


def _status_change(cur: Any, step: dict[str, Any], body: StepPatch) -> dict[str, Any]:
    """Check the pause reason, move the step's clock; return the update's time and pause parameters."""
    if body.status == "paused" and not step_time.reason_exists(cur, body.pause_reason or ""):
        raise ValidationError([{"field": "pause_reason", "message": f"no pause reason has code {body.pause_reason}"}])
    change = step_time.change_status(cur, step, body.status, g.user_id, body.pause_reason, body.note)
    return dict(change, pause_reason=body.pause_reason if body.status == "paused" else None)


def _audited(step: dict[str, Any], after: dict[str, Any], body: StepPatch) -> dict[str, Any]:
    """Return the audit entry's changed fields: the row's, and a pause's note or a reopen's reason."""
    changes = audit.changed_fields(step, {key: after[key] for key in (
        "status", "assigned_to", "machine_id", "started_at", "completed_at", "pause_reason")})
    for extra in ("note", "reason"):
        if getattr(body, extra) is not None:
            changes[extra] = {"old": None, "new": getattr(body, extra)}
    return changes


@bp.patch("/steps/<int:step_id>")
@documented(schema=Step, responses={
    409: "Illegal status transition, or the job is not open", 403: "Not the step's operator; a reopen by a "
    "non-manager", 422: "Unknown pause reason; pause without pause_reason; reopen without reason"}, etag=True)
@require_role("operator")
@accepts(body=StepPatch)
def update_step(step_id: int, body: StepPatch) -> Any:
    """Start, pause, resume, complete, skip or reopen a step (see `status`), and assign it (a manager).

    Every status change closes the step's open time segment and opens the next (work while in_progress,
    a pause while paused) at the database's clock, in the same transaction.
    """
    sent = body.model_fields_set - {"pause_reason", "note", "reason"}
    assigning = sent & {"assigned_to", "machine_id"}
    with cursor() as cur:
        job, step, etag = _lock_step(cur, step_id)
        if assigning and not has_role("manager"):
            raise ApiError(403, "Only a manager assigns steps to operators and machines.")
        if "status" in sent:
            _check_may_execute(cur, job, step, body.status)
        if assigning:
            check_job_open(job, "its steps cannot be reassigned")
            errors = reference_errors(cur, [("", dict(step, **{key: getattr(body, key) for key in assigning}))],
                                      new=False)
            if errors:
                raise ValidationError(errors)
        if not sent:
            return dict(step, job_status=job["status"]), 200, {"ETag": etag}
        timing = _status_change(cur, step, body) if "status" in sent else dict(
            step_time.UNCHANGED, pause_reason=step["pause_reason"])
        changes = {name: getattr(body, name) for name in sent}
        cur.execute(queries.update_step, dict(merged(step, changes, ("status", "assigned_to", "machine_id")),
                                              step_id=step_id, **timing))
        after = one_row(cur)
        audit.record(cur, "update", "job_steps", step_id, _audited(step, after, body))
        if after["assigned_to"] is not None and after["assigned_to"] != step["assigned_to"]:
            cur.execute(queries.notify_assignees, {"step_ids": [step_id]})
        if "status" in sent:
            step_time.notify(cur, step_id, body.status, g.user_id)
        job_status = follow_steps(cur, job, body.status) if "status" in sent else job["status"]
    return with_etag(dict(after, job_status=job_status))


@bp.delete("/steps/<int:step_id>")
@documented(responses={409: "The job is completed or cancelled"}, etag=True)
@require_role("manager")
def delete_step(step_id):
    """Delete a step (a job left with only finished steps becomes completed, as when its last step closes)."""
    with cursor() as cur:
        job, step, _ = _lock_step(cur, step_id)
        check_job_open(job, "its steps cannot be removed")
        cur.execute(queries.delete_step, {"step_id": step_id})
        audit.record_delete(cur, "job_steps", step)
        follow_steps(cur, job, "deleted")
    return "", 204
