"""The database's caller hook: what the database needs to know of the request a transaction runs for,
read from the request context (runtime/context.py), since the database never reads the request itself.

The web layer sets the context (web/context.py, web/auth.py); web/cached.py says `fresh_after(...)` when a
cached answer is loaded after an invalidation. The database reads `current()` to route reads (a user who
just wrote reads from a replica only once it replayed the write) and `writing_user()` to announce writes.
"""
from ..runtime import context
from ..runtime.context import RequestContext


def fresh_after(at: float) -> None:
    """Make this request's reads come only from a replica that replayed everything before monotonic time `at`."""
    context.need_fresh_after(at)


def current() -> RequestContext:
    """Return the request this thread serves (OUTSIDE a request: a background thread, a command)."""
    return context.current()


def writing_user() -> int | None:
    """Return the user of a request that may write, else None."""
    request = context.current()
    return request.user_id if request.writes else None
