"""The job and step workflow: statuses, the legal transitions, and the job status that follows its steps.

A manager moves a job through JOB_TRANSITIONS; operators move steps through STEP_TRANSITIONS, and
the steps move their job: the first started step makes a draft or active job in_progress, the last
completed or skipped one makes it completed. Every function here runs inside the caller's
transaction with the job's row locked (jobs before steps, always), so automatic moves are never lost.
"""
from collections.abc import Mapping
from typing import Any

from ..db import Cursor, Queries, one_row
from . import audit
from .errors import ApiError
from .statuses import JOB_STATUSES, PRIORITIES, STEP_STATUSES, JobStatus, Priority

__all__ = ["JOB_STATUSES", "STEP_STATUSES", "PRIORITIES", "JobStatus", "Priority"]  # for the views

queries = Queries("workflow.sql")

# The legal manual job changes; anything else is 409.
JOB_TRANSITIONS: dict[str, set[str]] = {
    "draft": {"active", "in_progress", "cancelled"},
    "active": {"draft", "in_progress", "on_hold", "cancelled"},
    "in_progress": {"on_hold", "completed", "cancelled"},
    "on_hold": {"active", "in_progress", "cancelled"},
    "completed": set(),
    "cancelled": {"draft"},
}
# What a step's status may become; anything else is 409. in_progress <-> paused is pause and resume;
# completed or skipped -> pending is a manager's reopen, with a reason (REOPEN_FROM).
STEP_TRANSITIONS: dict[str, set[str]] = {
    "pending": {"in_progress", "skipped"}, "in_progress": {"paused", "completed", "skipped"},
    "paused": {"in_progress", "skipped"}, "completed": {"pending"}, "skipped": {"pending"}}
REOPEN_FROM = ("completed", "skipped")
# Steps whose clock runs: an open work segment (in_progress) or pause segment (paused).
TIMED_STEP = ("in_progress", "paused")
# Steps are worked on only while their job is open for work; closed jobs take no changes at all.
WORKING_JOB = ("draft", "active", "in_progress")
CLOSED_JOB = ("completed", "cancelled")


def check_job_transition(cur: Cursor, job_id: int, old: str, new: str) -> None:
    """Raise 409 unless a job may go from `old` to `new` (completed only with no open steps)."""
    if new == old:
        return
    if new not in JOB_TRANSITIONS[old]:
        allowed = ", ".join(sorted(JOB_TRANSITIONS[old])) or "none"
        raise ApiError(409, f"A {old} job cannot become {new} (allowed: {allowed}).")
    if new == "completed":
        cur.execute(queries.count_open_steps, {"job_id": job_id})
        if one_row(cur)["open"]:
            raise ApiError(409, "The job still has pending or in-progress steps; complete or skip them first.")


def check_step_transition(job: Mapping[str, Any], step: Mapping[str, Any], status: str) -> None:
    """Raise 409 unless `step` may become `status` while its job is in its current status."""
    if status not in STEP_TRANSITIONS[step["status"]]:
        raise ApiError(409, f"A {step['status']} step cannot become {status}.")
    if status == "pending":  # a reopen: a completed job opens again (follow_steps); a cancelled one stays shut
        if job["status"] == "cancelled":
            raise ApiError(409, "The job is cancelled; its steps cannot be reopened.")
    elif job["status"] not in WORKING_JOB:
        raise ApiError(409, f"The job is {job['status']}; its steps cannot change status.")


def check_job_open(job: Mapping[str, Any], doing: str) -> None:
    """Raise 409 when the job is completed or cancelled (`doing` says what was refused)."""
    if job["status"] in CLOSED_JOB:
        raise ApiError(409, f"The job is {job['status']}; {doing}.")


def notify_status_change(cur: Cursor, job_id: int) -> None:
    """Tell the job's step assignees, except the caller, that the job changed status."""
    cur.execute(queries.notify_job_status, {"job_id": job_id, "actor_id": audit.actor_id()})


def _set_job_status(cur: Cursor, job: Mapping[str, Any], status: str) -> str:
    cur.execute(queries.set_job_status, {"job_id": job["id"], "status": status})
    audit.record(cur, "update", "jobs", job["id"], {"status": {"old": job["status"], "new": status}})
    notify_status_change(cur, job["id"])
    return status


def follow_steps(cur: Cursor, job: Mapping[str, Any], step_status: str) -> str:
    """Move the job along after one of its steps became `step_status`; return the job's status.

    A started step makes a draft or active job in_progress. However the last open step closes (completed,
    skipped, or "deleted" after a step was removed), the rule is one: a job that is not on hold or closed
    and still has steps becomes completed. A step reopened (back to pending) on a completed job makes the
    job in_progress again: it has open work, and work on it had begun.
    """
    if step_status == "pending":
        if job["status"] == "completed":
            return _set_job_status(cur, job, "in_progress")
        return str(job["status"])
    if step_status == "in_progress":
        if job["status"] in ("draft", "active"):
            return _set_job_status(cur, job, "in_progress")
        return str(job["status"])
    cur.execute(queries.count_open_steps, {"job_id": job["id"]})
    counts = one_row(cur)
    if counts["open"] == 0 and counts["total"] > 0 and job["status"] not in CLOSED_JOB + ("on_hold",):
        return _set_job_status(cur, job, "completed")
    return str(job["status"])
