"""Who this thread's transactions run for: the interface through which the web layer tells the database
what a request is, since the database never reads the request itself.

web/auth.py says `serving(...)` when a request starts and `serving_user(...)` once its token is verified;
web/cached.py says `fresh_after(...)` when a cached answer is loaded after an invalidation. The database
reads `current()` to route reads (a user who just wrote reads from a replica only once it replayed the
write) and to announce writes. Threads serve one request after another: each request starts afresh.
"""
from contextvars import ContextVar
from typing import NamedTuple


class Request(NamedTuple):
    """The request a thread serves: its user (None before login), whether it may write (not GET, HEAD or
    OPTIONS; outside a request, a background thread or a command, always), and the monotonic time its
    reads must have been replayed past (0.0: any replica will do)."""

    user_id: int | None = None
    writes: bool = True
    fresh_after: float = 0.0


NOBODY = Request()
_current = ContextVar("printshop_db_caller", default=NOBODY)


def serving(writes, user_id=None):
    """Start serving a new request on this thread: anonymous until `serving_user`, writing when `writes`."""
    _current.set(Request(user_id, bool(writes)))


def serving_user(user_id):
    """Name the verified user of this thread's request."""
    _current.set(_current.get()._replace(user_id=user_id))


def fresh_after(at):
    """Make this request's reads come only from a replica that replayed everything before monotonic time `at`."""
    request = _current.get()
    _current.set(request._replace(fresh_after=max(request.fresh_after, at)))


def current():
    """Return the request this thread serves (NOBODY outside a request: a background thread, a command)."""
    return _current.get()


def writing_user():
    """Return the user of a request that may write, else None."""
    request = _current.get()
    return request.user_id if request.writes else None
