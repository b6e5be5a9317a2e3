"""The audit trail: every write records who, what, when, the changed fields and the client IP.

Who acts comes from the request context (runtime/context.py), set once by the web layer when a request
starts and when its token is verified; every rule below records and notifies on behalf of that user.
"""
from collections.abc import Mapping
from typing import Any

from psycopg2.extras import Json

from ..db import Cursor, Queries
from ..runtime import context

queries = Queries("audit_logs.sql")


def actor_id() -> int | None:
    """Return the id of the user the current writes are made for (None before login and outside a request)."""
    return context.current().user_id


def record(cur: Cursor, action: str, entity: str, entity_id: object = None,
           changes: Mapping[str, Any] | None = None, user_id: int | None = None) -> None:
    """Write one audit row inside the caller's transaction."""
    acting = context.current()
    cur.execute(queries.insert_audit_log, {
        "user_id": user_id if user_id is not None else acting.user_id,
        "action": action, "entity": entity, "entity_id": entity_id,
        "changes": Json(_jsonable(changes or {})), "ip": acting.address, "device_id": acting.device_id,
    })


def record_create(cur: Cursor, entity: str, entity_id: object, fields: Mapping[str, Any]) -> None:
    """Record the creation of `entity_id` with its initial `fields` (each as {"old": None, "new"})."""
    record(cur, "create", entity, entity_id, changed_fields({}, fields))


def record_delete(cur: Cursor, entity: str, before: Mapping[str, Any], entity_id: object = None) -> None:
    """Record the deletion of the row `before` (each field as {"old", "new": None})."""
    record(cur, "delete", entity, before["id"] if entity_id is None else entity_id,
           changed_fields(before, dict.fromkeys(before)))


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Return {field: {"old", "new"}} for the fields whose value differs."""
    return {key: {"old": _jsonable(before.get(key)), "new": _jsonable(value)}
            for key, value in after.items() if before.get(key) != value}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
