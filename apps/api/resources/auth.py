"""Login, token refresh, logout and the caller's identity."""
from flask import Blueprint, g
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt
from pydantic import BaseModel

from .. import audit
from ..auth import forget_token_state, require_role
from ..db import Queries, cursor
from ..errors import ApiError
from ..openapi import documented
from ..passwords import verify_password
from ..ratelimit import rate_limited
from ..validation import Body, Text, accepts

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
queries = Queries("auth.sql")


class LoginBody(Body):
    username: Text(64, 1)
    password: Text(1024, 1)


class TokenUser(BaseModel):
    id: int
    username: str
    role: str


class LoginAnswer(BaseModel):
    """Tokens for the Authorization header (`Bearer <access_token>`) and who they are for."""

    access_token: str
    refresh_token: str
    token_type: str
    user: TokenUser


class RefreshAnswer(BaseModel):
    access_token: str
    token_type: str


class Revoked(BaseModel):
    """The revoked token's id."""

    status: str
    revoked: str


class Me(BaseModel):
    id: int
    username: str
    full_name: str
    role: str


def _tokens_for(user):
    claims = {"role": user["role"]}
    identity = str(user["id"])
    return (create_access_token(identity=identity, additional_claims=claims),
            create_refresh_token(identity=identity, additional_claims=claims))


@bp.post("/login")
@documented(status=200, schema=LoginAnswer, responses={401: "Bad credentials"})
@rate_limited("login", "RATE_LIMIT_LOGIN_IP", by="ip")
@rate_limited("login", "RATE_LIMIT_LOGIN_USER", by="login_username")
@accepts(body=LoginBody)
def login(body):
    """Exchange a username and password for an access and a refresh token."""
    with cursor() as cur:
        cur.execute(queries.get_user_for_login, {"username": body.username})
        user = cur.fetchone()
        # verify_password costs one scrypt even for an unknown user: no user enumeration by timing.
        password_ok = verify_password(user["password_hash"] if user else None, body.password)
        if not (user and password_ok and user["is_active"]):
            raise ApiError(401, "Unknown user, wrong password, or inactive account.",
                           headers={"WWW-Authenticate": "Bearer"})
        audit.record(cur, "login", "users", user["id"], user_id=user["id"])
    access_token, refresh_token = _tokens_for(user)
    return {"access_token": access_token, "refresh_token": refresh_token, "token_type": "Bearer",
            "user": {"id": user["id"], "username": user["username"], "role": user["role"]}}


@bp.post("/refresh")
@documented(status=200, schema=RefreshAnswer, operation_id="refreshToken")
@require_role("viewer", refresh=True)
def refresh():
    """Return a new access token for a valid refresh token."""
    claims = get_jwt()
    token = create_access_token(identity=claims["sub"], additional_claims={"role": claims["role"]})
    return {"access_token": token, "token_type": "Bearer"}


def _revoke(cur, claims):
    cur.execute(queries.revoke_token, {"jti": claims["jti"], "token_type": claims["type"],
                                       "user_id": int(claims["sub"]), "expires_at": claims["exp"]})


@bp.post("/logout")
@documented(status=200, schema=Revoked)
@require_role("viewer")
def logout():
    """Revoke the presented token (and, when sent, the refresh token too) in every worker."""
    claims = get_jwt()
    with cursor() as cur:
        _revoke(cur, claims)
        cur.execute(queries.purge_expired_revocations)
        audit.record(cur, "logout", "users", g.user_id)
    forget_token_state()
    return {"status": "ok", "revoked": claims["jti"]}


@bp.post("/logout/refresh")
@documented(status=200, schema=Revoked)
@require_role("viewer", refresh=True)
def logout_refresh():
    """Revoke the presented refresh token."""
    claims = get_jwt()
    with cursor() as cur:
        _revoke(cur, claims)
        audit.record(cur, "logout", "users", g.user_id)
    forget_token_state()
    return {"status": "ok", "revoked": claims["jti"]}


@bp.get("/token")
@documented(schema={"title": "TokenClaims", "type": "object", "properties": {
    "user_id": {"type": "integer"}, "role": {"type": "string"}, "type": {"type": "string"},
    "issued_at": {"type": "integer"}, "expires_at": {"type": "integer"}}})
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
