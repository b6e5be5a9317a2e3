"""Production processes (any role reads, admin writes) and which roles may execute each."""
from datetime import datetime
from typing import Annotated

import psycopg2
from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from pydantic import BaseModel, Field, StrictBool
from werkzeug.routing import BaseConverter

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit
from ..domain.statuses import ROLES, Role
from ..web.auth import require_role
from ..web.errors import ApiError, ValidationError
from ..web.etags import precondition, with_etag
from ..web.idempotency import idempotent
from ..web.listing import Order, page_of
from ..web.openapi import documented, page_model
from ..web.rows import merged, one_or_404
from ..web.validation import OMITTED, Body, Id, Name100, PageQuery, accepts

bp = Blueprint("processes", __name__, url_prefix="/api")
queries = Queries("processes.sql")
IN_ORDER = Order("default_order", ["default_order", "id"])

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Position = Annotated[int, Field(ge=1, le=2**31 - 1)]  # a default order: not listing.Order



class Process(BaseModel):
    """A production process (a kind of step) as the API answers it."""

    id: int
    code: str
    name: str
    default_order: int
    is_active: bool
    created_at: datetime = OMITTED
    updated_at: datetime = OMITTED


class ProcessPermission(BaseModel):
    """One process and whether the role may execute it."""

    process_id: int = OMITTED
    code: str = OMITTED
    name: str = OMITTED
    is_active: bool = OMITTED
    can_execute: bool = OMITTED


class RolePermissions(BaseModel):
    """Which processes a role may execute."""

    role: Role
    process_ids: list[int]
    permissions: list[ProcessPermission]


class RoleConverter(BaseConverter):
    """Match one of the four role names in a URL (anything else is a 404)."""

    regex = "|".join(ROLES)


# The converter must be known before the first rule that uses it is added to the app's URL map.
@bp.record_once
def _add_role_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("role", RoleConverter)


class ProcessListQuery(PageQuery):
    is_active: bool | None = None


class ProcessCreate(Body):
    code: Code
    name: Name100
    default_order: Position
    is_active: StrictBool = True


class ProcessPatch(Body):
    # Omitted means unchanged; none of these may be null (the types have no None).
    code: Code = OMITTED
    name: Name100 = OMITTED
    default_order: Position = OMITTED
    is_active: StrictBool = OMITTED


class PermissionsBody(Body):
    """The complete set of processes the role may execute; every other process is denied."""

    process_ids: list[Id] = Field(max_length=1000)


@bp.get("/processes")
@documented(schema=page_model(Process))
@require_role("viewer")
@accepts(query=ProcessListQuery)
def list_processes(query):
    """List processes in production order, optionally only active or inactive ones."""
    with read_cursor() as cur:
        return page_of(cur, queries.match_processes, queries.list_processes,
                       {"is_active": query.is_active}, query, IN_ORDER)


@bp.get("/processes/<int:process_id>")
@documented(schema=Process, etag=True)
@require_role("viewer")
def get_process(process_id):
    """Return one process."""
    with read_cursor() as cur:
        return with_etag(one_or_404(cur, queries.get_process, {"process_id": process_id}, "process"))


@bp.post("/processes")
@documented(schema=Process, responses={409: "The code is taken"})
@require_role("admin")
@idempotent
@accepts(body=ProcessCreate)
def create_process(body):
    """Create a process."""
    with cursor() as cur:
        cur.execute(queries.insert_process, body.model_dump())
        process = one_row(cur)
        audit.record_create(cur, "processes", process["id"], body.model_dump())
    return with_etag(process, 201, {"Location": f"/api/processes/{process['id']}"})


@bp.patch("/processes/<int:process_id>")
@documented(schema=Process, responses={409: "The code is taken"}, etag=True)
@require_role("admin")
@accepts(body=ProcessPatch)
def update_process(process_id, body):
    """Change a process's code, name, order or active flag."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    with cursor() as cur:
        before = one_or_404(cur, queries.lock_process, {"process_id": process_id}, "process")
        etag = precondition(before)
        if not changes:
            return before, 200, {"ETag": etag}
        cur.execute(queries.update_process, dict(merged(before, changes, ProcessPatch.model_fields),
                                                 process_id=process_id))
        process = cur.fetchone()
        audit.record(cur, "update", "processes", process_id, audit.changed_fields(before, changes))
    return with_etag(process)


@bp.delete("/processes/<int:process_id>")
@documented(responses={409: "Job steps still use the process"}, etag=True)
@require_role("admin")
def delete_process(process_id):
    """Delete a process that no job step uses (deactivate it otherwise)."""
    with cursor() as cur:
        before = one_or_404(cur, queries.lock_process, {"process_id": process_id}, "process")
        precondition(before)
        cur.execute(queries.count_process_steps, {"process_id": process_id})
        if one_row(cur)["steps"]:
            raise ApiError(409, "Job steps use this process; set is_active to false instead.")
        try:
            cur.execute(queries.delete_process, {"process_id": process_id})
        except psycopg2.errors.ForeignKeyViolation:
            # A step was added between the check and the delete.
            raise ApiError(409, "Job steps use this process; set is_active to false instead.") from None
        audit.record_delete(cur, "processes", before)
    return "", 204


@bp.get("/roles/<role:role>/permissions")
@documented(schema=RolePermissions)
@require_role("viewer")
def get_role_permissions(role):
    """Return, for every process, whether the role may execute its steps."""
    with read_cursor() as cur:
        return _permissions(cur, role)


@bp.put("/roles/<role:role>/permissions")
@documented(status=200, schema=RolePermissions)
@require_role("admin", fresh=True)
@accepts(body=PermissionsBody)
def replace_role_permissions(role, body):
    """Replace the set of processes the role may execute (`process_ids`; duplicates count once).

    Needs a fresh login.
    """
    process_ids = sorted(set(body.process_ids))
    with cursor() as cur:
        cur.execute(queries.lock_role_permissions, {"role": role})
        cur.execute(queries.find_processes, {"process_ids": process_ids})
        known = {row["id"] for row in cur.fetchall()}
        unknown = [{"field": f"process_ids.{index}", "message": f"no process has id {process_id}"}
                   for index, process_id in enumerate(body.process_ids) if process_id not in known]
        if unknown:
            raise ValidationError(unknown)
        before = _permissions(cur, role)["process_ids"]
        params = {"role": role, "process_ids": process_ids}
        cur.execute(queries.delete_role_permissions, params)
        cur.execute(queries.grant_role_permissions, params)
        after = _permissions(cur, role)
        if before != after["process_ids"]:
            changes = audit.changed_fields({"process_ids": before}, {"process_ids": after["process_ids"]})
            audit.record(cur, "update", "role_permissions", None, dict(changes, role=role))
    return after


def _permissions(cur, role):
    cur.execute(queries.get_role_permissions, {"role": role})
    permissions = cur.fetchall()
    allowed = [row["process_id"] for row in permissions if row["can_execute"]]
    return {"role": role, "process_ids": allowed, "permissions": permissions}

