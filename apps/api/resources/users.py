"""Users: admins create, list, read, change and delete; managers list and read a summary to assign work."""
from datetime import datetime
from typing import Annotated

from flask import Blueprint, g
from pydantic import BaseModel, Field, StrictBool, StringConstraints

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit
from ..domain.passwords import hash_password
from ..domain.statuses import Role
from ..web import sessions
from ..web.auth import forget_token_state, has_role, require_fresh, require_role
from ..web.errors import ApiError
from ..web.etags import precondition, with_etag
from ..web.idempotency import idempotent
from ..web.listing import Order, page_of
from ..web.openapi import documented, page_model
from ..web.rows import merged, one_or_404
from ..web.validation import OMITTED, Body, Email, PageQuery, Password8, Text200, accepts

bp = Blueprint("users", __name__, url_prefix="/api/users")
queries = Queries("users.sql")
BY_USERNAME = Order("username", ["username", "id"])

EDITABLE = ("full_name", "email", "role", "is_active")
# Changes that hand out or take away access need a fresh login: a refreshed (possibly stolen) token may not
# switch accounts on, point their email elsewhere or set their password. Only the full name does not.
FRESH_FIELDS = ("email", "is_active", "password", "role")
# What a manager sees of a user: enough to assign work, no email or history.
SUMMARY = ("id", "username", "full_name", "role", "is_active")
SUMMARY_VARIANT = "-summary"  # the summary is another representation: another ETag
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class User(BaseModel):
    """A user as the API answers it (never the password hash); managers get only the first five fields."""

    id: int
    username: str
    full_name: str
    role: Role
    is_active: bool
    email: str | None = Field(None, description="Admins only")
    created_at: datetime = Field(OMITTED, description="Admins only")
    updated_at: datetime = Field(OMITTED, description="Admins only")


class UserQuery(PageQuery):
    role: Role | None = None
    is_active: bool | None = None


class UserBody(Body):
    username: Username
    password: Password8
    role: Role
    full_name: Text200 = ""
    email: Email | None = None
    is_active: StrictBool = True


class UserPatch(Body):
    # Omitted fields keep their value; only `email` may be set to null.
    full_name: Text200 = OMITTED
    email: Email | None = None
    role: Role = OMITTED
    is_active: StrictBool = OMITTED
    password: Password8 = OMITTED


def _lock_for_change(cur, user_id, role=None, is_active=None):
    """Lock and return the user; refuse (409) to leave no active admin, or an admin demoting themselves.

    The active admins are locked first, always in id order, so two admins acting at once take turns.
    """
    admins = []
    if role is not None or is_active is not None:
        cur.execute(queries.lock_active_admins)
        admins = [row["id"] for row in cur.fetchall()]
    before = one_or_404(cur, queries.lock_user, {"id": user_id}, "user")
    role = before["role"] if role is None else role
    is_active = before["is_active"] if is_active is None else is_active
    if user_id in admins and (role != "admin" or not is_active):
        if user_id == g.user_id:
            raise ApiError(409, "Admins cannot demote or deactivate themselves; ask another admin.")
        if len(admins) == 1:
            raise ApiError(409, "This is the last active admin; make another admin first.")
    return before


def _summary(user):
    return {key: user[key] for key in SUMMARY}


@bp.get("")
@documented(schema=page_model(User))
@require_role("manager")
@accepts(query=UserQuery)
def list_users(query):
    """List users by username, optionally filtered by role and active state.

    Admins get every field; managers get `id`, `username`, `full_name`, `role` and `is_active`.
    """
    params = {"role": query.role, "is_active": query.is_active}
    with read_cursor() as cur:
        page = page_of(cur, queries.match_users, queries.list_users, params, query, BY_USERNAME)
    if not has_role("admin"):
        page["items"] = [_summary(user) for user in page["items"]]
    return page


@bp.post("")
@documented(schema=User, responses={409: "The username or email is taken"})
@require_role("admin", fresh=True)
@idempotent
@accepts(body=UserBody)
def create_user(body):
    """Create a user; the password is stored as a salted scrypt hash. Needs a fresh login."""
    fields = body.model_dump(exclude={"password"})
    with cursor() as cur:
        cur.execute(queries.insert_user, dict(fields, password_hash=hash_password(body.password)))
        user = one_row(cur)
        audit.record_create(cur, "users", user["id"], fields)
    return with_etag(user, 201, {"Location": f"/api/users/{user['id']}"})


@bp.get("/<int:user_id>")
@documented(schema=User, etag=True)
@require_role("manager")
def get_user(user_id):
    """Return one user (to a manager: `id`, `username`, `full_name`, `role` and `is_active`)."""
    with read_cursor() as cur:
        user = one_or_404(cur, queries.get_user, {"id": user_id}, "user")
    if has_role("admin"):
        return with_etag(user)
    return with_etag(dict(_summary(user), row_version=user["row_version"]), variant=SUMMARY_VARIANT)


def _save(cur, before, changes, password=None, action="update"):
    """Write `changes` (and a new password) over `before`; audit and return the user."""
    changed = audit.changed_fields(before, changes)
    if not changed and password is None:
        return before
    cur.execute(queries.update_user, dict(merged(before, changes, EDITABLE), id=before["id"],
                                          password_hash=hash_password(password) if password else None))
    user = cur.fetchone()
    if password is not None:
        changed["password"] = "changed"
    if password is not None or "role" in changed or "is_active" in changed:
        sessions.end_all(cur, before["id"], "account changed")
    audit.record(cur, action, "users", before["id"], changed)
    return user


@bp.patch("/<int:user_id>")
@documented(schema=User, etag=True,
            responses={409: "The email is taken, or an admin tried to demote or deactivate themselves"})
@require_role("admin")
@accepts(body=UserPatch)
def update_user(user_id, body):
    """Change a user's name, email, role, active state or password.

    A change of role, active state or password ends all of the user's sessions. Changing anything but the
    full name (role, active state, email, password) needs a fresh login. Admins cannot demote or deactivate
    themselves, and the last active admin cannot be demoted or deactivated (409).
    """
    if body.model_fields_set & set(FRESH_FIELDS):
        require_fresh()
    changes = body.model_dump(include=body.model_fields_set - {"password"})
    with cursor() as cur:
        before = _lock_for_change(cur, user_id, changes.get("role"), changes.get("is_active"))
        etag = precondition(before)
        user = _save(cur, before, changes, password=body.password)
    forget_token_state()  # the ended sessions' tokens stop here at once, elsewhere within 1 s
    return (before, 200, {"ETag": etag}) if user is before else with_etag(user)


update_user.fresh_fields = FRESH_FIELDS  # documented as x-needs-fresh-login-fields


@bp.delete("/<int:user_id>")
@documented(responses={409: "An admin tried to delete themselves, or the last active admin"}, etag=True)
@require_role("admin", fresh=True)
def delete_user(user_id):
    """Delete a user: from then on every operation on it answers 404, and it cannot log in.

    Its row stays, so the audit trail keeps its name, the jobs it created keep their creator and its username
    stays taken; its tokens stop working. To switch a user off reversibly, `PATCH {"is_active": false}`
    instead. Admins cannot delete themselves (409). Needs a fresh login.
    """
    with cursor() as cur:
        before = _lock_for_change(cur, user_id, is_active=False)
        precondition(before)
        cur.execute(queries.delete_user, {"id": user_id})
        sessions.end_all(cur, user_id, "account changed")
        audit.record(cur, "delete", "users", user_id, audit.changed_fields(before, {"is_active": False}))
    forget_token_state()
    return "", 204


@bp.delete("/<int:user_id>/sessions")
@documented(responses={404: "Unknown user"})
@require_role("admin", fresh=True)
def delete_user_sessions(user_id):
    """End every session of a user: all their tokens are refused from now on. Needs a fresh login."""
    with cursor() as cur:
        one_or_404(cur, queries.get_user, {"id": user_id}, "user")
        ended = sessions.end_all(cur, user_id, "ended by admin")
        audit.record(cur, "logout", "users", user_id, {"sessions_ended": ended})
    forget_token_state()
    return "", 204
