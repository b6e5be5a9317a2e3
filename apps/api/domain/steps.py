"""A job's steps as a rule shared by the jobs and steps views: their limit, their references, their insertion."""
from collections.abc import Iterable, Sequence
from typing import Any

from psycopg2.extras import Json
from pydantic import BaseModel

from ..db import Cursor, Queries, Row

queries = Queries("steps.sql")

MAX_STEPS = 100  # per job


def _rows_by_id(cur: Cursor, statement: str, ids: Iterable[int]) -> dict[int, Row]:
    if not ids:
        return {}
    cur.execute(statement, {"ids": sorted(ids)})
    return {row["id"]: row for row in cur.fetchall()}


def reference_errors(cur: Cursor, steps: Sequence[tuple[str, dict[str, Any]]],
                     new: bool = True) -> list[dict[str, str]]:
    """Return 422 field errors for (prefix, step) pairs naming unknown, inactive or unfit records."""
    def ids(key: str) -> set[int]:
        return {step[key] for _, step in steps if step.get(key) is not None}

    processes = _rows_by_id(cur, queries.find_processes, ids("process_id")) if new else {}
    assignees = _rows_by_id(cur, queries.find_assignees, ids("assigned_to"))
    machines = _rows_by_id(cur, queries.find_machines, ids("machine_id"))
    errors = []
    for prefix, step in steps:
        process_id, user_id, machine_id = step["process_id"], step.get("assigned_to"), step.get("machine_id")
        if new and process_id not in processes:
            errors.append({"field": f"{prefix}process_id", "message": f"no process has id {process_id}"})
        elif new and not processes[process_id]["is_active"]:
            errors.append({"field": f"{prefix}process_id", "message": f"process {process_id} is inactive"})
        elif user_id is not None and user_id not in assignees:
            errors.append({"field": f"{prefix}assigned_to", "message": f"no active user has id {user_id}"})
        elif user_id is not None and process_id not in assignees[user_id]["process_ids"]:
            errors.append({"field": f"{prefix}assigned_to",
                           "message": f"user {user_id}'s role may not execute process {process_id}"})
        if machine_id is not None and machine_id not in machines:
            errors.append({"field": f"{prefix}machine_id", "message": f"no machine in service has id {machine_id}"})
    return errors


def insert_steps(cur: Cursor, job_id: int, steps: Sequence[BaseModel], first_order: int) -> list[Row]:
    """Insert `steps` (StepIn) as the job's steps from `first_order` on and notify their assignees."""
    payload = [dict(step.model_dump(), step_order=first_order + index) for index, step in enumerate(steps)]
    if not payload:
        return []
    cur.execute(queries.insert_steps, {"job_id": job_id, "steps": Json(payload)})
    rows = sorted(cur.fetchall(), key=lambda row: row["step_order"])
    cur.execute(queries.notify_assignees, {"step_ids": [row["id"] for row in rows]})
    return rows
