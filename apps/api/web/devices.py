"""Device tokens on the request: who the board or tablet is, checked against PostgreSQL at most once a second.

A device token is opaque (domain/devices.py), never a JWT, so flask-jwt-extended refuses it on every user
route (401) by itself; the device routes say which kind they serve with `require_device(kind)`. Each worker
remembers a token's device for SESSION_STATE_TTL_SECONDS (1 s), the same view of revocation as login
sessions (web/sessions.py): a revoked device is refused by every worker of every instance within it.
"""
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request

from ..db import Queries, connection
from ..domain.devices import Device, looks_like_token, token_hash
from ..runtime import context
from .errors import ApiError

queries = Queries("devices.sql")
EXTENSION = "device_states"
BEARER = "Bearer "
MAX_ENTRIES = 10_000


class DeviceStates:
    """One app's view of device tokens: token hash -> (the live device or None, valid until)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.states: dict[bytes, tuple[Device | None, float]] = {}  # replaced whole: read without a lock

    def device_of(self, token: str) -> Device | None:
        """Return the live device holding `token`, asking PostgreSQL at most once per ttl."""
        key = token_hash(token)
        found = self.states.get(key)
        now = time.monotonic()
        if found is not None and found[1] > now:
            return found[0]
        with connection() as conn, conn.cursor() as cur:
            cur.execute(queries.get_device_by_token, {"token_hash": key})
            row = cur.fetchone()
        device = Device(*row) if row else None
        if len(self.states) >= MAX_ENTRIES:
            self.states = {}
        self.states[key] = (device, now + self.ttl)
        return device

    def forget(self) -> None:
        """Drop every remembered device (after revoking one in this process)."""
        self.states = {}


def init_app(app: Any) -> None:
    """Give `app` its per-process memory of device tokens."""
    app.extensions[EXTENSION] = DeviceStates(app.config["SESSION_STATE_TTL_SECONDS"])


def forget_devices() -> None:
    """Make this worker ask PostgreSQL again about every device token."""
    current_app.extensions[EXTENSION].forget()


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, headers={"WWW-Authenticate": "Bearer"})


def request_device() -> Device | None:
    """Return the live device whose token the request carries as its bearer, or None."""
    header = request.headers.get("Authorization", "")
    token = header[len(BEARER):].strip() if header.startswith(BEARER) else ""
    if not looks_like_token(token):
        return None
    return current_app.extensions[EXTENSION].device_of(token)


def require_device(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the request through only with the token of a live device of `kind` (else 401)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            device = request_device()
            # Another kind's token is no credential here either: 401, as the contract says of the PIN login.
            if device is None or device.kind != kind:
                raise _unauthorized(f"This route needs a registered {kind}'s device token as the bearer "
                                    "(a revoked device's token is refused).")
            g.device = device
            # Who the request serves, for the cache's key and the logs: every device of a kind sees the same.
            context.identify(None, f"device:{kind}", device.id)  # g.user_id and g.role read it
            return view(*args, **kwargs)

        wrapper.device_kind = kind  # type: ignore[attr-defined]
        return wrapper

    return decorator
