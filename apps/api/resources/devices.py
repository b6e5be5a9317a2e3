"""Devices on the floor (wall boards, machines' shared tablets): a manager registers, lists and revokes them."""
from datetime import datetime

from flask import Blueprint, g
from pydantic import BaseModel, Field

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit
from ..domain.devices import DEFAULT_IDLE_SECONDS, DeviceKind, new_token, token_hash
from ..web.auth import forget_token_state, require_role
from ..web.devices import forget_devices
from ..web.errors import ApiError, ValidationError
from ..web.listing import Order, page_of
from ..web.openapi import documented, page_model
from ..web.validation import Body, Id, Name100, PageQuery, accepts

bp = Blueprint("devices", __name__, url_prefix="/api/devices")
queries = Queries("devices.sql")
NEWEST_FIRST = Order("created_at.desc", ["d.created_at", "d.id"], descending=True)


class DeviceBody(Body):
    name: Name100
    kind: DeviceKind
    machine_id: Id | None = Field(None, description="The machine a tablet stands by (its operators' queue)")
    idle_seconds: int = Field(DEFAULT_IDLE_SECONDS, ge=15, le=86400,
                              description="A tablet signs its operator out after this many idle seconds")


class NewDevice(BaseModel):
    """A registered device and its token: shown this once, kept by the server only as a hash."""

    id: int
    name: str
    kind: DeviceKind
    machine_id: int | None
    idle_seconds: int
    created_at: datetime
    token: str = Field(description="The device's bearer token; open /board#device=<token> or "
                                   "/tablet#device=<token> on the device. Not shown again.")


class Device(BaseModel):
    """A device as the list shows it (never its token)."""

    id: int
    name: str
    kind: DeviceKind
    machine_id: int | None
    machine_name: str | None
    idle_seconds: int
    created_at: datetime
    last_used_at: datetime | None = Field(description="When its token was last used (to the minute)")
    revoked_at: datetime | None


@bp.post("")
@documented(schema=NewDevice, status=201)
@require_role("manager")
@accepts(body=DeviceBody)
def create_device(body):
    """Register a board or a tablet; the answer carries its token, shown this once.

    A device token is not a user: a board reads only GET /api/board, a tablet only GET /api/tablet and
    POST /api/auth/pin (its operators' PIN logins); every other route refuses it (401).
    """
    token = new_token()
    with cursor() as cur:
        if body.machine_id is not None:
            cur.execute(queries.machine_exists, {"machine_id": body.machine_id})
            if not one_row(cur)["found"]:
                raise ValidationError([{"field": "machine_id", "message": "No machine has this id."}])
        cur.execute(queries.insert_device, {**body.model_dump(), "token_hash": token_hash(token),
                                            "created_by": g.user_id})
        device = one_row(cur)
        audit.record_create(cur, "devices", device["id"], body.model_dump())
    return dict(device, token=token), 201


@bp.get("")
@documented(schema=page_model(Device))
@require_role("manager")
@accepts(query=PageQuery)
def list_devices(query):
    """List the devices, newest first, with their last use; revoked ones carry `revoked_at`."""
    with read_cursor() as cur:
        return page_of(cur, queries.match_devices, queries.list_devices, {}, query, NEWEST_FIRST)


@bp.delete("/<int:device_id>")
@documented(responses={404: "No live device has this id (unknown, or revoked already)"})
@require_role("manager")
def delete_device(device_id):
    """Revoke a device: its token and every session opened through it are refused everywhere within 1 s."""
    with cursor() as cur:
        cur.execute(queries.revoke_device, {"id": device_id})
        device = cur.fetchone()
        if device is None:
            raise ApiError(404, "No live device has this id.")
        cur.execute(queries.end_device_sessions, {"id": device_id})
        audit.record_delete(cur, "devices", device)
    forget_devices()
    forget_token_state()
    return "", 204
