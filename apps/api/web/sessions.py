"""Login sessions kept in PostgreSQL, and each worker's one-second view of whether a session is live.

A login starts a session; its access and refresh tokens carry the session id (claim "sid"). A token is
honoured only while its session is live and its user active with the token's role. A session lives at most
SESSION_MAX_AGE seconds from its login, however often it is refreshed. Refresh rotates the
session's one valid refresh token; presenting a spent one ends the session (RFC 9700 reuse detection).
"""
import time
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app, request
from flask_jwt_extended import create_access_token, create_refresh_token

from .. import cache, db
from ..db import Queries, connection
from .ended_sessions import CHANNEL as ENDED_CHANNEL
from .ended_sessions import EndedSessions
from .proxies import client_ip

queries = Queries("sessions.sql")
# An access token from a password login is fresh this long (refreshed ones never are).
FRESH_FOR = timedelta(minutes=15)
USER_AGENT_MAX = 500


class SessionStates:
    """One app's view of session states: (sid, user id) -> (the role of a live session or None, valid until)."""

    MAX_ENTRIES = 50_000

    def __init__(self, ttl, ended=None):
        # A plain dict read without a lock (one get is atomic under the GIL): a hit costs a lookup and a
        # clock read. Writers replace whole entries, so a reader sees an old or a new state, never half of one.
        # An ended session's tokens are refused by every worker within `ttl` seconds (SESSION_STATE_TTL_SECONDS;
        # at once by the one that ended it): each worker asks PostgreSQL about a session at most once per `ttl`.
        self.ttl = ttl
        self.states = {}
        # Sessions this worker heard end (NOTIFY): refused whatever a lagging standby still says.
        self.ended = ended if ended is not None else EndedSessions(0.0)

    def role_of(self, sid, subject):
        """Return the live session's role (None when it is not live), asking PostgreSQL at most once per ttl."""
        if not isinstance(sid, str) or not isinstance(subject, str):
            return None  # not claims this service writes: no live session
        if self.ended.ended(sid):
            return None
        key = (sid, subject)
        found = self.states.get(key)
        now = time.monotonic()
        if found is not None and found[1] > now:
            return found[0]
        role = _load_role(sid, subject)
        if len(self.states) >= self.MAX_ENTRIES:
            self._prune(now)
        self.states[key] = (role, now + self.ttl)
        return role

    def _prune(self, now):
        live = {key: state for key, state in list(self.states.items()) if state[1] > now}
        self.states = live if len(live) < self.MAX_ENTRIES else {}

    def forget(self):
        """Drop every cached state (after a session ended in this process)."""
        self.states = {}


def _load_role(sid, subject):
    try:
        user_id, sid = int(subject), str(uuid.UUID(str(sid)))
    except (TypeError, ValueError):
        return None
    params = {"sid": sid, "user_id": user_id, "max_age": current_app.config["SESSION_MAX_AGE"]}
    if not db.read_only():
        try:
            with connection() as conn, conn.cursor() as cur:
                cur.execute(queries.get_session_state, params)
                row = cur.fetchone()
            return row[0] if row else None
        except db.CONNECTION_ERRORS as exc:
            # Only a primary out of reach moves the check (a pool or statement timeout is not that).
            if not db.unreachable(exc) or not db.has_replicas():
                raise
    # The primary is down: no session can end meanwhile, but the standby may not have replayed an end that
    # committed just before: role_of() already refused every session this worker heard end (ended_sessions.py).
    # The last-used stamp waits for the primary's return.
    with db.read_cursor() as cur:
        cur.execute(queries.get_session_role, params)
        found = cur.fetchone()
    return found["role"] if found else None


def init_app(app):
    """Give `app` its own session-state cache, and its memory of ended sessions fed by the cache's listener."""
    # A session's tokens live at most its refresh token's lifetime, never past SESSION_MAX_AGE from login.
    keep = min(app.config["SESSION_MAX_AGE"], app.config["JWT_REFRESH_DAYS"] * 86400) + 60
    ended = EndedSessions(keep)
    app.extensions["ended_sessions"] = ended
    app.extensions["session_states"] = SessionStates(app.config["SESSION_STATE_TTL_SECONDS"], ended)
    cache.hear(app, ENDED_CHANNEL, ended.note)


def is_refused(payload):
    """Tell whether a verified token must be refused: its session ended, or its user changed."""
    role = current_app.extensions["session_states"].role_of(payload.get("sid"), payload.get("sub"))
    return role is None or role != payload.get("role")


def forget_states():
    """Make this worker ask PostgreSQL again about every session (after ending some)."""
    current_app.extensions["session_states"].forget()


def _tokens(user_id, role, sid, refresh_jti, fresh, refresh_expires_at, device_id=None):
    claims = {"role": role, "sid": sid}
    if device_id is not None:
        claims["dev"] = device_id  # a PIN session's tablet: its writes are audited with it
    identity = str(user_id)
    # The refresh token's own expiry is its session row's: never past the session's absolute lifetime.
    refresh_for = max(refresh_expires_at - datetime.now(UTC), timedelta(seconds=1))
    return (create_access_token(identity=identity, additional_claims=claims, fresh=fresh),
            create_refresh_token(identity=identity, additional_claims=dict(claims, jti=refresh_jti),
                                 expires_delta=refresh_for))


def _refresh_expiry():
    return datetime.now(UTC) + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


def _max_age():
    return current_app.config["SESSION_MAX_AGE"]


def start(cur, user_id, role, device_id=None):
    """Start a session; return its (access token, refresh token).

    A password login's access token is fresh; a PIN login's (`device_id`: the tablet it is bound to, which
    ends it when revoked) never is.
    """
    sid, refresh_jti = str(uuid.uuid4()), str(uuid.uuid4())
    user_agent = request.headers.get("User-Agent", "")[:USER_AGENT_MAX].replace("\x00", "")
    expires_at = min(_refresh_expiry(), datetime.now(UTC) + timedelta(seconds=_max_age()))
    cur.execute(queries.insert_session, {"sid": sid, "user_id": user_id, "refresh_jti": refresh_jti,
                                         "expires_at": expires_at, "ip": client_ip(),
                                         "user_agent": user_agent, "device_id": device_id})
    cur.execute(queries.purge_old_sessions)
    return _tokens(user_id, role, sid, refresh_jti, FRESH_FOR if device_id is None else False, expires_at,
                   device_id)


def rotate(cur, claims):
    """Spend the presented refresh token; return new (access, refresh) tokens, or None after a reuse.

    A refresh token that is not the session's current one was spent already (or stolen): the whole
    session ends, so neither the thief nor the owner can go on with it.
    """
    refresh_jti = str(uuid.uuid4())
    cur.execute(queries.rotate_refresh, {"sid": claims["sid"], "user_id": int(claims["sub"]),
                                         "presented_jti": claims["jti"], "new_jti": refresh_jti,
                                         "expires_at": _refresh_expiry(), "max_age": _max_age()})
    row = cur.fetchone()
    if row is None:
        end(cur, claims["sid"], int(claims["sub"]), "refresh token reused")
        return None
    return _tokens(int(claims["sub"]), row["role"], claims["sid"], refresh_jti, False, row["expires_at"],
                   row["device_id"])


def end(cur, sid, user_id, reason):
    """End one live session of `user_id`; tell whether there was one."""
    cur.execute(queries.end_session, {"sid": sid, "user_id": user_id, "reason": reason})
    return cur.fetchone() is not None


def end_all(cur, user_id, reason):
    """End every live session of `user_id`; return how many."""
    cur.execute(queries.end_user_sessions, {"user_id": user_id, "reason": reason})
    return cur.rowcount


def list_live(cur, user_id, current_sid):
    """Return `user_id`'s live sessions, newest first, flagging the caller's own."""
    cur.execute(queries.list_live_sessions, {"user_id": user_id, "current_sid": current_sid,
                                             "max_age": _max_age()})
    return cur.fetchall()
