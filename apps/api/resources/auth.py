"""Login, token refresh, logout, the caller's sessions and identity."""
from datetime import datetime
from uuid import UUID

from flask import Blueprint, g
from flask_jwt_extended import get_jwt
from pydantic import BaseModel

from ..db import Queries, cursor
from ..domain import audit
from ..domain.passwords import verify_password
from ..web import sessions
from ..web.auth import forget_token_state, require_role
from ..web.errors import ApiError
from ..web.openapi import documented
from ..web.proxies import client_ip
from ..web.ratelimit import rate_limited
from ..web.validation import OMITTED, Body, Name64, Password1, accepts

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
queries = Queries("auth.sql")
BAD_CREDENTIALS = "Unknown user, wrong password, or inactive account."


class LoginBody(Body):
    username: Name64
    password: Password1  # exactly as typed at creation: never stripped


class LoginUser(BaseModel):
    id: int
    username: str
    role: str


class Login(BaseModel):
    """A login's tokens: a fresh access token and the session's refresh token."""

    access_token: str
    refresh_token: str
    token_type: str
    user: LoginUser


class Refreshed(BaseModel):
    """A refresh's tokens: the presented refresh token is spent, this one replaces it."""

    access_token: str
    refresh_token: str
    token_type: str


class Ended(BaseModel):
    status: str
    session_id: UUID


class Session(BaseModel):
    """One live login session; `current` marks the one the request came with."""

    id: UUID
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str
    current: bool


class SessionList(BaseModel):
    items: list[Session]


class Me(BaseModel):
    id: int
    username: str
    full_name: str
    role: str


@bp.after_request
def _never_store(response):
    """Tokens and sessions must not be kept by any cache between the client and here."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/login")
@documented(status=200, schema=Login, responses={401: "Bad credentials"})
@rate_limited("login", "RATE_LIMIT_LOGIN_IP", by="ip")
@accepts(body=LoginBody)
@rate_limited("login", "RATE_LIMIT_LOGIN_USER", by="login_username")
def login(body):
    """Exchange a username and password for a new session's access and refresh tokens.

    The access token is fresh for 15 minutes (user administration needs that). A failed login is recorded
    (the name tried, the client address, the time) for admins: `GET /api/audit-logs/failed-logins`.
    """
    with cursor() as cur:
        cur.execute(queries.get_user_for_login, {"username": body.username})
        user = cur.fetchone()
        # verify_password costs one scrypt even for an unknown user: no user enumeration by timing.
        password_ok = verify_password(user["password_hash"] if user else None, body.password)
        if user and password_ok and user["is_active"]:
            access_token, refresh_token = sessions.start(cur, user["id"], user["role"])
            audit.record(cur, "login", "users", user["id"], user_id=user["id"])
        else:
            cur.execute(queries.insert_failed_login, {"username": body.username, "ip": client_ip()})
            user = None
    if user is None:  # after the block: the failed attempt's row is committed
        raise ApiError(401, BAD_CREDENTIALS, headers={"WWW-Authenticate": "Bearer"})
    return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer",
            "user": {"id": user["id"], "username": user["username"], "role": user["role"]}}


@bp.post("/refresh")
@documented(status=200, schema=Refreshed, responses={401: "The refresh token was spent already: the session ended"},
            operation_id="refreshToken")
@require_role("viewer", refresh=True)
def refresh():
    """Spend the presented refresh token for a new access token and a new refresh token.

    Presenting a refresh token that was spent already ends its whole session (reuse detection).
    The new access token is not fresh.
    """
    with cursor() as cur:
        tokens = sessions.rotate(cur, get_jwt())
    if tokens is None:
        forget_token_state()
        raise ApiError(401, "This refresh token was already used; its session has ended. Log in again.",
                       headers={"WWW-Authenticate": "Bearer"})
    return {"access_token": tokens[0], "refresh_token": tokens[1], "token_type": "Bearer"}


def _end_current_session():
    claims = get_jwt()
    with cursor() as cur:
        sessions.end(cur, claims["sid"], g.user_id, "logout")
        audit.record(cur, "logout", "users", g.user_id)
    forget_token_state()
    return {"status": "ok", "session_id": claims["sid"]}


@bp.post("/logout")
@documented(status=200, schema=Ended)
@require_role("viewer")
def logout():
    """End the session of the presented access token: its access and refresh tokens are refused from now on."""
    return _end_current_session()


@bp.post("/logout/refresh")
@documented(status=200, schema=Ended)
@require_role("viewer", refresh=True)
def logout_refresh():
    """End the session of the presented refresh token."""
    return _end_current_session()


@bp.get("/sessions")
@documented(schema=SessionList)
@require_role("viewer")
def list_sessions():
    """List the caller's live sessions, newest first; `current` is the one this token belongs to."""
    with cursor() as cur:
        return {"items": sessions.list_live(cur, g.user_id, get_jwt()["sid"])}


@bp.delete("/sessions/<uuid:session_id>")
@documented(responses={404: "No live session of the caller has this id"})
@require_role("viewer")
def delete_session(session_id):
    """End one of the caller's sessions (the current one too): its tokens are refused from now on."""
    with cursor() as cur:
        if not sessions.end(cur, str(session_id), g.user_id, "revoked"):
            raise ApiError(404, f"You have no live session {session_id}.")
        audit.record(cur, "logout", "users", g.user_id, {"session": str(session_id)})
    forget_token_state()
    return "", 204


class TokenClaims(BaseModel):
    """What the presented token says."""

    user_id: int = OMITTED
    role: str = OMITTED
    type: str = OMITTED
    issued_at: int = OMITTED
    expires_at: int = OMITTED


@bp.get("/token")
@documented(schema=TokenClaims)
@require_role("viewer")
def get_token():
    """Describe the presented token (who, role, when it expires) without touching the database."""
    claims = get_jwt()
    return {"user_id": int(claims["sub"]), "role": claims["role"], "type": claims["type"],
            "issued_at": claims["iat"], "expires_at": claims["exp"]}


@bp.get("/me")
@documented(schema=Me, operation_id="getMe")
@require_role("viewer")
def me():
    """Return the caller's id, username, full name and role."""
    with cursor() as cur:
        cur.execute(queries.get_me, {"user_id": g.user_id})
        user = cur.fetchone()
    if user is None:
        raise ApiError(401, "The token's user is no longer active.")
    return user
