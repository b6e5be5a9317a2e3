"""`Idempotency-Key` on creating POSTs: a retried or doubled request creates once and answers the first answer.

Put `@idempotent` between `@require_role` and `@accepts` on a creating view. With the header, the view runs
inside one `db.transaction()` that first claims (user, key) in `idempotency_keys` (migration 0100) and, after
the view, keeps its answer in the same row: the creation and its key commit together or not at all. A second
request with the same key waits on the first one's row lock (a double click: two requests at once), then
finds the kept answer and answers it again with `Idempotent-Replayed: true`; the same key with another
method, path or body is a 422. Keys belong to the user who sent them and live KEY_HOURS (the retention pass
deletes them after). A view that fails (4xx, 5xx) rolls back its key with its writes: a retry runs anew.
"""
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request
from psycopg2.extras import Json

from .. import db
from ..db import Queries
from .errors import ApiError

queries = Queries("idempotency.sql")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_HOURS = 24
# Visible ASCII, 1 to 255 characters: a UUID (what the page sends) or any client's token (openapi.IDEMPOTENCY_KEY).
KEY_FORM = re.compile(r"[\x21-\x7e]{1,255}")
# The answer's headers worth keeping: a replay must say where the created thing is and its version.
KEPT_HEADERS = ("Content-Type", "Location", "ETag")
_PURPOSE = b"printshop idempotency fingerprint v1"


def _key() -> str | None:
    """Return the request's Idempotency-Key, None without one; 400 when it is malformed."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_FORM.fullmatch(key):
        raise ApiError(400, f"{HEADER} must be 1 to 255 visible ASCII characters (a UUID, for instance).",
                       errors=[{"field": HEADER, "message": "must be 1 to 255 visible ASCII characters"}])
    return key


def _fingerprint() -> str:
    """Return a keyed hash of the request's method, path and body (JSON compared by value, not by spacing)."""
    data = request.get_data()
    try:
        data = json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass  # not JSON: the view answers it; compared byte for byte
    # Keyed: a body may hold a password (POST /api/users), and the table must not let one guess it offline.
    secret = hmac.new(current_app.config["JWT_SECRET_KEY"].encode(), _PURPOSE, hashlib.sha256).digest()
    message = f"{request.method} {request.path}\n".encode() + data
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _replay(kept: dict[str, Any], fingerprint: str) -> Response:
    """Answer the kept answer again, or 422 when the key was used for another request."""
    if not hmac.compare_digest(kept["fingerprint"], fingerprint):
        raise ApiError(422, f"This {HEADER} was used for another request (another body or path) in the last "
                            f"{KEY_HOURS} hours: use a new key for a new request.",
                       errors=[{"field": HEADER, "message": "already used for another request"}])
    response = current_app.response_class(kept["body"], status=kept["status"], headers=kept["headers"])
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _keep(cur: Any, params: dict[str, Any], response: Response) -> None:
    """Keep a successful answer with its key; let go of the key after any other (a retry runs again)."""
    if response.status_code >= 300:
        cur.execute(queries.release_key, params)
        return
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    cur.execute(queries.keep_answer, dict(params, status=response.status_code,
                                          body=response.get_data(as_text=True), headers=Json(headers)))


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Make a creating view honour `Idempotency-Key` (after require_role: the key belongs to g.user_id)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        fingerprint = _fingerprint()
        params = {"user_id": g.user_id, "key": key}
        with db.transaction() as cur:
            cur.execute(queries.claim_key, dict(params, fingerprint=fingerprint, hours=KEY_HOURS))
            if cur.fetchone() is None:  # a live key: its holder has committed (we waited for it)
                cur.execute(queries.get_key, params)
                return _replay(cur.fetchone(), fingerprint)
            response = current_app.make_response(view(*args, **kwargs))
            _keep(cur, params, response)
        return response

    vars(wrapper).update(idempotent=True)
    return wrapper
