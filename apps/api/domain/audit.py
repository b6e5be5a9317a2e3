"""The audit trail: every write records who, what, when, the changed fields and the client IP.

Who acts is an explicit value, not a request object: the web layer says `acting(user_id, ip)` when it has
verified a request (web/auth.py), and every rule below records and notifies on behalf of that actor.
"""
from contextvars import ContextVar
from typing import NamedTuple

from psycopg2.extras import Json


class Actor(NamedTuple):
    """Who performs the current writes: a user id (None before login), the client's address, and the device
    (a tablet) the user's session was opened on, if any."""

    user_id: int | None
    ip: str | None
    device_id: int | None = None


NOBODY = Actor(None, None)
_actor = ContextVar("printshop_actor", default=NOBODY)


def acting(user_id, ip, device_id=None):
    """Make (`user_id`, `ip`, `device_id`) the actor of this thread's writes until the next call (once per
    request)."""
    _actor.set(Actor(user_id, ip, device_id))


def actor():
    """Return the current actor."""
    return _actor.get()

INSERT_AUDIT = """
    INSERT INTO audit_logs (user_id, action, entity, entity_id, changes, ip, device_id)
    VALUES (%(user_id)s, %(action)s, %(entity)s, %(entity_id)s, %(changes)s, %(ip)s, %(device_id)s)
"""


def record(cur, action, entity, entity_id=None, changes=None, user_id=None):
    """Write one audit row inside the caller's transaction."""
    cur.execute(INSERT_AUDIT, {
        "user_id": user_id if user_id is not None else _actor.get().user_id,
        "action": action, "entity": entity, "entity_id": entity_id,
        "changes": Json(_jsonable(changes or {})), "ip": _actor.get().ip, "device_id": _actor.get().device_id,
    })


def record_create(cur, entity, entity_id, fields):
    """Record the creation of `entity_id` with its initial `fields` (each as {"old": None, "new"})."""
    record(cur, "create", entity, entity_id, changed_fields({}, fields))


def record_delete(cur, entity, before, entity_id=None):
    """Record the deletion of the row `before` (each field as {"old", "new": None})."""
    record(cur, "delete", entity, before["id"] if entity_id is None else entity_id,
           changed_fields(before, dict.fromkeys(before)))


def changed_fields(before, after):
    """Return {field: {"old", "new"}} for the fields whose value differs."""
    return {key: {"old": _jsonable(before.get(key)), "new": _jsonable(value)}
            for key, value in after.items() if before.get(key) != value}


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
