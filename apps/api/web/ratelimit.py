"""Rate limits whose counters live in PostgreSQL, so every worker and instance shares them; while the
primary is down, each worker counts in memory instead (a per-worker limit rather than a failed read)."""
import math
import random
import threading
import time
from functools import wraps

from cachetools import TTLCache
from flask import current_app, g

from .. import db
from ..db import Queries, connection, one_row
from .errors import ApiError
from .proxies import client_ip, rate_limit_key

queries = Queries("ratelimit.sql")
# One call in this many also purges old windows.
PURGE_EVERY = 200


class Limit:
    """`hits` per `window` seconds, parsed from settings such as "10/300"."""

    def __init__(self, text):
        hits, _, window = str(text).partition("/")
        self.hits, self.window = int(hits), int(window or 60)
        if self.hits < 1 or self.window < 1:
            raise ValueError(f"bad rate limit {text!r}: use HITS/SECONDS, e.g. 10/60")


class LocalCounts:
    """One worker's fixed-window counters, for while the primary (where the shared ones live) is down."""

    def __init__(self):
        self._counts: TTLCache[tuple[str, int, float], int] = TTLCache(maxsize=100_000, ttl=3600)
        self._lock = threading.Lock()

    def hit(self, bucket, window):
        """Count one hit for `bucket` in its current window; return (hits, seconds left in the window)."""
        now = time.time()
        start = now - now % window
        with self._lock:
            key = (bucket, window, start)
            self._counts[key] = hits = self._counts.get(key, 0) + 1
        return hits, start + window - now


def _count(bucket, limit):
    """Count one hit in PostgreSQL, or in this worker's memory while the primary is down."""
    if not db.primary_down():
        try:
            with connection() as conn, conn.cursor() as cur:
                cur.execute(queries.hit_bucket, {"bucket": _storable(bucket)[:300], "window": limit.window})
                hits, seconds_left = one_row(cur)
                if random.randrange(PURGE_EVERY) == 0:
                    cur.execute(queries.purge_old_windows)
            return hits, seconds_left
        except db.CONNECTION_ERRORS as exc:
            # Busy (a pool timeout, a statement timeout) is the request's 503; a primary that cannot be
            # reached, down or only just gone, falls back to this worker's count, as a read must not fail.
            if not db.unreachable(exc) and not db.primary_down():
                raise
    return current_app.extensions.setdefault("local_rate_limits", LocalCounts()).hit(bucket, limit.window)


def hit(bucket, limit):
    """Count one hit for `bucket`; raise a 429 ApiError when it is over `limit`."""
    hits, seconds_left = _count(bucket, limit)
    if hits > limit.hits:
        from ..ops import metrics

        metrics.count_rate_limited(bucket.split(":", 1)[0])
        retry_after = max(1, math.ceil(seconds_left))
        raise ApiError(429, f"Too many requests; retry in {retry_after} s.",
                       headers={"Retry-After": str(retry_after)})


def _storable(text):
    """Return `text` as PostgreSQL text can hold it: NULs and lone surrogates escaped (a key from raw input)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _login_username(kwargs):
    # The validated body (@accepts above this rule): the body is parsed once, and only after its size passed.
    body = kwargs.get("body")
    username = getattr(body, "username", None)
    return username.strip().lower() if isinstance(username, str) else ""


# Which key a rule counts by, from the view's arguments.
KEYS = {
    "ip": lambda kwargs: rate_limit_key(client_ip()),
    "user": lambda kwargs: str(g.get("user_id", "anonymous")),
    "login_username": _login_username,
}


def rate_limited(name, setting, by):
    """Refuse the view with 429 + Retry-After when `by` ("ip", "user", "login_username") exceeds config[setting].

    "login_username" goes below @accepts: it counts the validated body's username.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_app.config.get("RATE_LIMITS_ENABLED", True):
                key = KEYS[by](kwargs)
                if key:
                    hit(f"{name}:{by}:{key}", Limit(current_app.config[setting]))
            return view(*args, **kwargs)

        return wrapper

    return decorator
