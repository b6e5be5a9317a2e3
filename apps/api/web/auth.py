"""JWT auth: token settings, one role decorator (fresh logins too), and the session check of every token."""
from datetime import timedelta
from functools import wraps

from flask import g
from flask_jwt_extended import JWTManager, get_jwt, verify_jwt_in_request

from ..domain.statuses import ROLES
from ..runtime import context
from . import devices, sessions, verified_tokens
from .errors import ApiError, problem

ROLE_RANK: dict[str | None, int] = {role: rank for rank, role in enumerate(ROLES)}
ALGORITHM = "HS256"

jwt = JWTManager()


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
    sessions.init_app(app)
    verified_tokens.init_app(app)
    devices.init_app(app)


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
    return _unauthorized("The token's session has ended, or its user changed or is no longer active.")


@jwt.needs_fresh_token_loader
def _needs_fresh(header, payload):
    return _unauthorized("This action needs a fresh login (a token from a password login within 15 minutes), "
                         "not a refreshed token.")


@jwt.user_lookup_error_loader
def _user_lookup_error(header, payload):
    return _unauthorized("The token's user does not exist.")


@jwt.token_verification_failed_loader
def _verification_failed(header, payload):
    return _unauthorized("The token failed verification.")


@jwt.token_in_blocklist_loader
def _is_revoked(header, payload):
    """Refuse tokens whose session ended or whose user was deactivated or changed (see sessions.py)."""
    return sessions.is_refused(payload)


def forget_token_state():
    """Drop this worker's cached session states (after ending sessions here)."""
    sessions.forget_states()


def require_fresh():
    """Refuse (401) unless the request carries a fresh access token, i.e. one from a recent password login."""
    verify_jwt_in_request(fresh=True)


def require_role(minimum="viewer", refresh=False, fresh=False):
    """Let the request through when it carries a valid token whose role is at least `minimum`."""
    if minimum not in ROLE_RANK:
        raise ValueError(f"unknown role {minimum!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if refresh or fresh:
                verify_jwt_in_request(refresh=refresh, fresh=fresh)
                claims = get_jwt()
            else:
                claims = verified_tokens.verify_access_token()  # a repeated token skips the signature check
            role = claims.get("role")
            if ROLE_RANK.get(role, -1) < ROLE_RANK[minimum]:
                raise ApiError(403, f"This action needs the {minimum} role or higher.")
            # g.user_id and g.role read it (web/context.py); "dev": a PIN session's tablet
            context.identify(int(claims["sub"]), role, claims.get("dev"))
            return view(*args, **kwargs)

        vars(wrapper).update(required_role=minimum, needs_fresh=fresh)  # read by the OpenAPI document
        return wrapper

    return decorator


def has_role(minimum):
    """Tell whether the current caller's role is at least `minimum`."""
    return ROLE_RANK.get(g.get("role"), -1) >= ROLE_RANK[minimum]
