"""JWT auth: token settings, one role decorator, revocation shared through PostgreSQL."""
import time
from datetime import timedelta
from functools import wraps

from flask import g
from flask_jwt_extended import JWTManager, get_jwt, verify_jwt_in_request

from .errors import ApiError, problem

ROLES = ("viewer", "operator", "manager", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
ALGORITHM = "HS256"
# A revocation or deactivation is seen by every worker within this many seconds.
TOKEN_STATE_TTL = 1.0

TOKEN_STATE_MAX = 50_000

jwt = JWTManager()
# (jti, sub) -> (refused, good until): a plain dict read on every authenticated request. Reads and
# single-key writes of a dict are atomic under the GIL, so the hot path takes no lock.
_token_state = {}

TOKEN_STATE_SQL = """
    SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = %(jti)s) AS revoked,
           (SELECT role FROM users
            WHERE id = %(user_id)s AND is_active AND tokens_valid_after <= to_timestamp(%(issued_at)s)) AS role
"""


def init_app(app):
    """Configure flask-jwt-extended for `app`: pinned algorithm, lifetimes, 401 problem answers."""
    app.config.update(
        JWT_ALGORITHM=ALGORITHM,
        JWT_DECODE_ALGORITHMS=[ALGORITHM],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=app.config["JWT_ACCESS_MINUTES"]),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=app.config["JWT_REFRESH_DAYS"]),
        JWT_ERROR_MESSAGE_KEY="detail",
    )
    jwt.init_app(app)


def _unauthorized(detail):
    return problem(401, detail, headers={"WWW-Authenticate": "Bearer"})


@jwt.unauthorized_loader
def _missing_token(reason):
    return _unauthorized("Missing or malformed Authorization header: send 'Bearer <token>'.")


@jwt.invalid_token_loader
def _invalid_token(reason):
    return _unauthorized(f"Invalid token: {reason}.")


@jwt.expired_token_loader
def _expired_token(header, payload):
    return _unauthorized("The token has expired; log in or refresh.")


@jwt.revoked_token_loader
def _revoked_token(header, payload):
    return _unauthorized("The token was revoked, or its user is no longer active.")


@jwt.needs_fresh_token_loader
def _needs_fresh(header, payload):
    return _unauthorized("A fresh token is required.")


@jwt.user_lookup_error_loader
def _user_lookup_error(header, payload):
    return _unauthorized("The token's user does not exist.")


@jwt.token_verification_failed_loader
def _verification_failed(header, payload):
    return _unauthorized("The token failed verification.")


@jwt.token_in_blocklist_loader
def _is_revoked(header, payload):
    """Refuse revoked tokens, and tokens of users who are deactivated, changed role or changed password."""
    from .db import connection

    jti = payload.get("jti")
    key = (jti, payload.get("sub"))
    now = time.monotonic()
    known = _token_state.get(key)
    if known is not None and known[1] > now:
        return known[0]
    try:
        user_id = int(payload.get("sub"))
    except (TypeError, ValueError):
        return True
    with connection() as conn, conn.cursor() as cur:
        cur.execute(TOKEN_STATE_SQL, {"jti": jti, "user_id": user_id, "issued_at": payload.get("iat", 0)})
        revoked, role = cur.fetchone()
    refused = bool(revoked or role is None or role != payload.get("role"))
    if len(_token_state) >= TOKEN_STATE_MAX:
        _token_state.clear()  # bounded: at worst every live token is looked up once more
    _token_state[key] = (refused, now + TOKEN_STATE_TTL)
    return refused


def forget_token_state():
    """Drop this process's cached token states (after a revocation made here)."""
    _token_state.clear()


def require_role(minimum="viewer", refresh=False):
    """Let the request through when it carries a valid token whose role is at least `minimum`."""
    if minimum not in ROLE_RANK:
        raise ValueError(f"unknown role {minimum!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            claims = get_jwt()
            role = claims.get("role")
            if ROLE_RANK.get(role, -1) < ROLE_RANK[minimum]:
                raise ApiError(403, f"This action needs the {minimum} role or higher.")
            g.user_id = int(claims["sub"])
            g.role = role
            return view(*args, **kwargs)

        wrapper.required_role = minimum
        return wrapper

    return decorator


def has_role(minimum):
    """Tell whether the current caller's role is at least `minimum`."""
    return ROLE_RANK.get(g.get("role"), -1) >= ROLE_RANK[minimum]
