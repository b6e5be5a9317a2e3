"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.support.fuzz_hooks): a fresh admin session for every request
(on a floor device's route, a fresh device of its kind).

A fresh session each time, as a login would start one, so a generated logout, refresh or password change
ends nothing the next request needs. The CLI runs in its own process: FUZZ_ADMIN_ID, FUZZ_DATABASE_URL and
FUZZ_JWT_SECRET say whose session, where, and the secret that signs its tokens.
"""
import os
import threading
import uuid

import psycopg2
import schemathesis

from tests.support.tokens import claims_for, signed

_conn, _lock = None, threading.Lock()


def _start_session(user_id, refresh_jti):
    """Insert a live session of `user_id` (what a login does); return its id."""
    global _conn
    sid = str(uuid.uuid4())
    with _lock:
        if _conn is None or _conn.closed:
            _conn = psycopg2.connect(os.environ["FUZZ_DATABASE_URL"])
            _conn.autocommit = True
        with _conn.cursor() as cur:
            cur.execute("INSERT INTO sessions (id, user_id, refresh_jti, expires_at) "
                        "VALUES (%s, %s, %s, now() + interval '30 days')", (sid, user_id, refresh_jti))
    return sid


def _new_device(kind):
    """Register a device of `kind` (a board or a tablet) straight in the database; return its token."""
    global _conn
    from apps.api.domain.devices import new_token, token_hash

    token = new_token()
    with _lock:
        if _conn is None or _conn.closed:
            _conn = psycopg2.connect(os.environ["FUZZ_DATABASE_URL"])
            _conn.autocommit = True
        with _conn.cursor() as cur:
            cur.execute("INSERT INTO devices (name, kind, token_hash) VALUES (%s, %s, %s)",
                        (f"fuzz {kind}", kind, token_hash(token)))
    return token


@schemathesis.auth(refresh_interval=None)
class FreshAdminSession:
    def get(self, case, context):
        kind = case.operation.definition.raw.get("x-device-kind")
        if kind:  # a floor device's route: a fresh device of its kind (a generated revoke ends nothing later)
            return _new_device(kind)
        user_id, refresh_jti = int(os.environ["FUZZ_ADMIN_ID"]), str(uuid.uuid4())
        sid = _start_session(user_id, refresh_jti)
        if case.path.endswith("/refresh"):  # POST /api/auth/refresh and /api/auth/logout/refresh
            claims = claims_for(user_id, "admin", token_type="refresh", sid=sid, jti=refresh_jti)
        else:
            claims = claims_for(user_id, "admin", sid=sid, fresh=True)
        return signed(claims, key=os.environ["FUZZ_JWT_SECRET"])

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
