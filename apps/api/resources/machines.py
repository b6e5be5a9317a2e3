"""Machines of the shop floor: any role reads, a manager writes."""
from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, StrictBool

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit
from ..domain.statuses import MachineStatus
from ..web.auth import require_role
from ..web.errors import ValidationError
from ..web.etags import precondition, with_etag
from ..web.idempotency import idempotent
from ..web.listing import Order, page_of
from ..web.openapi import documented, page_model
from ..web.rows import merged, one_or_404
from ..web.validation import OMITTED, Body, Id, Name100, PageQuery, accepts

bp = Blueprint("machines", __name__, url_prefix="/api/machines")
queries = Queries("machines.sql")
BY_NAME = Order("name", ["name", "id"])

FIELDS = ("name", "machine_type", "process_id", "status", "is_active")

class Machine(BaseModel):
    """A machine as the API answers it."""

    id: int
    name: str
    machine_type: str
    process_id: int | None
    status: MachineStatus
    is_active: bool
    created_at: datetime = OMITTED
    updated_at: datetime = OMITTED


class MachineListQuery(PageQuery):
    status: MachineStatus | None = None
    process_id: Id | None = None
    is_active: bool | None = None


class MachineCreate(Body):
    name: Name100
    machine_type: Name100
    process_id: Id | None = None
    status: MachineStatus = "idle"
    is_active: StrictBool = True


class MachinePatch(Body):
    # Omitted means unchanged; only process_id may be null (the other types have no None).
    name: Name100 = OMITTED
    machine_type: Name100 = OMITTED
    process_id: Id | None = None
    status: MachineStatus = OMITTED
    is_active: StrictBool = OMITTED


@bp.get("")
@documented(schema=page_model(Machine))
@require_role("viewer")
@accepts(query=MachineListQuery)
def list_machines(query):
    """List machines by name, filtered by status, process or active flag."""
    params = query.model_dump(include={"status", "process_id", "is_active"})
    with read_cursor() as cur:
        return page_of(cur, queries.match_machines, queries.list_machines, params, query, BY_NAME)


@bp.get("/<int:machine_id>")
@documented(schema=Machine, etag=True)
@require_role("viewer")
def get_machine(machine_id):
    """Return one machine."""
    with read_cursor() as cur:
        return with_etag(one_or_404(cur, queries.get_machine, {"machine_id": machine_id}, "machine"))


@bp.post("")
@documented(schema=Machine, responses={409: "The name is taken"})
@require_role("manager")
@idempotent
@accepts(body=MachineCreate)
def create_machine(body):
    """Create a machine."""
    with cursor() as cur:
        _check_process(cur, body.process_id)
        cur.execute(queries.insert_machine, body.model_dump())
        machine = one_row(cur)
        audit.record_create(cur, "machines", machine["id"], body.model_dump())
    return with_etag(machine, 201, {"Location": f"/api/machines/{machine['id']}"})


@bp.patch("/<int:machine_id>")
@documented(schema=Machine, responses={409: "The name is taken"}, etag=True)
@require_role("manager")
@accepts(body=MachinePatch)
def update_machine(machine_id, body):
    """Change a machine's name, type, process, status or active flag."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    with cursor() as cur:
        before = one_or_404(cur, queries.lock_machine, {"machine_id": machine_id}, "machine")
        etag = precondition(before)
        if not changes:
            return before, 200, {"ETag": etag}
        if "process_id" in changes:
            _check_process(cur, changes["process_id"])
        cur.execute(queries.update_machine, dict(merged(before, changes, FIELDS), machine_id=machine_id))
        machine = cur.fetchone()
        audit.record(cur, "update", "machines", machine_id, audit.changed_fields(before, changes))
    return with_etag(machine)


@bp.delete("/<int:machine_id>")
@documented(etag=True)
@require_role("manager")
def delete_machine(machine_id):
    """Delete a machine (steps that used it keep their history without it)."""
    with cursor() as cur:
        before = one_or_404(cur, queries.lock_machine, {"machine_id": machine_id}, "machine")
        precondition(before)
        cur.execute(queries.delete_machine, {"machine_id": machine_id})
        audit.record_delete(cur, "machines", before)
    return "", 204


def _check_process(cur, process_id):
    if process_id is None:
        return
    cur.execute(queries.process_exists, {"process_id": process_id})
    if not cur.fetchone()["found"]:
        raise ValidationError([{"field": "process_id", "message": f"no process has id {process_id}"}])

