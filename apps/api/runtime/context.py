"""The request context: who the current request serves and how, set once by the web layer, read below it.

web/context.py begins a context when a request starts (its address, request id and whether it may write),
names its verified user and role once the token is checked (web/auth.py), and ends it when the request is
torn down. The audit trail (domain/audit.py), the database's caller hook (db/caller.py) and the log lines
read it from here; none of them reads Flask's request or `g`. A context variable: each thread (and each
request on it) has its own, and a thread outside any request (a background loop, a command) reads OUTSIDE.
"""
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The request a thread serves.

    `user_id` and `role` are None until a token is verified; `address` is the client's IP and `request_id`
    its correlation id (None outside a request); `writes` tells whether it may write (not GET, HEAD or
    OPTIONS; outside a request, a background thread or a command, always); `fresh_after` is the monotonic
    time its reads must have been replayed past on a replica (0.0: any replica will do); `device_id` the
    tablet a PIN session was opened on (None for a browser session).
    """

    user_id: int | None = None
    role: str | None = None
    address: str | None = None
    request_id: str | None = None
    writes: bool = True
    fresh_after: float = 0.0
    device_id: int | None = None


OUTSIDE = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("printshop_request_context", default=OUTSIDE)


def begin(context: RequestContext) -> None:
    """Make `context` the one this thread serves (once per request, when it starts)."""
    _current.set(context)


def current() -> RequestContext:
    """Return the context this thread serves (OUTSIDE when it serves no request)."""
    return _current.get()


def identify(user_id: int | None, role: str | None, device_id: int | None = None) -> None:
    """Name the verified user (None: a caller that is no user, a device), role and device (the tablet a PIN
    session was opened on) of this thread's request."""
    _current.set(replace(_current.get(), user_id=user_id, role=role, device_id=device_id))


def need_fresh_after(at: float) -> None:
    """Make this request's replica reads wait for everything committed before monotonic time `at`."""
    context = _current.get()
    if at > context.fresh_after:
        _current.set(replace(context, fresh_after=at))


def end() -> None:
    """Stop serving a request on this thread (what it logs next belongs to no request)."""
    _current.set(OUTSIDE)
