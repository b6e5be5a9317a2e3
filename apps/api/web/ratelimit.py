"""Rate limits whose counters live in PostgreSQL, so every worker and instance shares them."""
import math
import random
from functools import wraps

from flask import current_app, g

from .proxies import client_ip
from ..db import Queries, connection
from .errors import ApiError
from .proxies import rate_limit_key

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


def hit(bucket, limit):
    """Count one hit for `bucket`; raise a 429 ApiError when it is over `limit`."""
    with connection() as conn, conn.cursor() as cur:
        cur.execute(queries.hit_bucket, {"bucket": _storable(bucket)[:300], "window": limit.window})
        hits, seconds_left = cur.fetchone()
        if random.randrange(PURGE_EVERY) == 0:
            cur.execute(queries.purge_old_windows)
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
