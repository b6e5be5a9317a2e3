"""PINs for the shared tablet: a user sets one; a tablet exchanges a username and PIN for a session bound to it."""
from flask import Blueprint, g
from pydantic import BaseModel, Field

from ..db import Queries, cursor, one_row
from ..domain import audit, pins
from ..web import sessions
from ..web.auth import ROLE_RANK, has_role, require_role
from ..web.devices import require_device
from ..web.errors import ApiError
from ..web.openapi import documented
from ..web.proxies import client_ip
from ..web.ratelimit import rate_limited
from ..web.validation import Body, Name64, accepts

bp = Blueprint("pins", __name__, url_prefix="/api")
queries = Queries("pins.sql")
auth_queries = Queries("auth.sql")
BAD_PIN = "Unknown user, wrong PIN, no PIN set, or inactive account."


class PinBody(Body):
    pin: pins.Pin = Field(description="4 to 8 digits")


class PinLoginBody(Body):
    username: Name64
    pin: pins.Pin = Field(description="4 to 8 digits")


class PinUser(BaseModel):
    id: int
    username: str
    full_name: str
    role: str


class PinLogin(BaseModel):
    """A PIN login's tokens: a session bound to the tablet (never fresh: no user administration with it)."""

    access_token: str
    refresh_token: str
    token_type: str
    user: PinUser
    device_id: int
    idle_seconds: int = Field(description="The tablet signs the user out after this many idle seconds")
    wrong_pins: int = Field(description="Wrong PINs tried for this user in the last 15 minutes")


@bp.put("/users/<int:user_id>/pin")
@documented(status=204, responses={404: "No user has this id"})
@require_role("viewer", fresh=True)
@accepts(body=PinBody)
def set_pin(user_id, body):
    """Set a user's PIN for the shared tablets (4 to 8 digits), hashed like a password.

    The user themselves with a fresh login (a password login within 15 minutes), or an admin.
    """
    if user_id != g.user_id and not has_role("admin"):
        raise ApiError(403, "Only the user themselves or an admin may set a user's PIN.")
    pin_hash = pins.hash_pin(body.pin)
    with cursor() as cur:
        cur.execute(queries.set_pin, {"id": user_id, "pin_hash": pin_hash})
        if cur.fetchone() is None:
            raise ApiError(404, "No user has this id.")
        audit.record(cur, "update", "users", user_id, {"pin": {"old": None, "new": "(set)"}})
    return "", 204


def _refuse(status, detail, seconds=None):
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {"Retry-After": str(seconds)}
    return ApiError(status, detail, headers=headers)


@bp.post("/auth/pin")
@documented(status=200, schema=PinLogin, responses={
    401: "No tablet's device token, or an unknown user, a wrong PIN, no PIN set, an inactive account",
    429: "Five wrong PINs for this user in 15 minutes: every PIN login of the user until the window passes"},
    operation_id="pinLogin")
@require_device("tablet")
@rate_limited("pin", "RATE_LIMIT_LOGIN_IP", by="ip")
@accepts(body=PinLoginBody)
def pin_login(body):
    """Sign a user in on a tablet with their PIN (the tablet's device token as the bearer).

    The session is bound to the tablet: revoking the device ends it. After five wrong PINs for one user in 15
    minutes every PIN login of that user answers 429 with Retry-After, the right PIN too, until the window
    passes; the user finds a notification saying so. Per address, PIN logins share the login's rate limit.
    """
    device, window = g.device, {"window": pins.WINDOW_SECONDS, "limit": pins.MAX_FAILURES}
    locked_for = answer = None
    with cursor() as cur:
        cur.execute(queries.lock_user_for_pin, {"username": body.username})
        user = cur.fetchone()
        failures = 0
        if user is not None:
            cur.execute(queries.recent_failures, dict(window, user_id=user["id"]))
            recent = one_row(cur)
            failures = recent["failures"]
            if failures >= pins.MAX_FAILURES:
                locked_for = max(1, recent["seconds_left"])
        if locked_for is None:
            matched = pins.pin_matches(user["pin_hash"] if user else None, body.pin)
            if user and matched and user["is_active"] and ROLE_RANK.get(user["role"], -1) >= ROLE_RANK["operator"]:
                access, refresh = sessions.start(cur, user["id"], user["role"], device.id)
                audit.record(cur, "login", "users", user["id"], {"via": {"old": None, "new": "pin"}},
                             user_id=user["id"])
                answer = {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                          "user": {key: user[key] for key in ("id", "username", "full_name", "role")},
                          "device_id": device.id, "idle_seconds": device.idle_seconds, "wrong_pins": failures}
            else:
                cur.execute(auth_queries.insert_failed_login, {"username": body.username, "ip": client_ip()})
                if user is not None:
                    cur.execute(queries.insert_failed_pin, {"user_id": user["id"], "device_id": device.id})
                    if failures + 1 >= pins.MAX_FAILURES:
                        cur.execute(queries.notify_pin_lock, {"user_id": user["id"], "message": (
                            f"{pins.MAX_FAILURES} wrong PINs were tried for you on the tablet “{device.name}”: "
                            "PIN sign-in was locked for 15 minutes. If it was not you, tell a manager.")})
                    cur.execute(queries.purge_old_failed_pins)
    if locked_for is not None:
        raise _refuse(429, pins.lockout_message(locked_for), locked_for)
    if answer is None:  # after the block: the wrong PIN is counted (committed)
        raise _refuse(401, BAD_PIN)
    return answer


@bp.after_request
def _never_store(response):
    """A PIN login's tokens must not be kept by any cache on the way."""
    response.headers["Cache-Control"] = "no-store"
    return response
