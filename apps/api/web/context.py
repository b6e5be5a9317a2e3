"""The request hooks that set the request context (runtime/context.py) once per request, and `g`'s view of it.

`begin_request` runs first of every request: the client's address, a request id (the caller's X-Request-ID
when short and plain, else a fresh one) and whether the method may write; web/auth.py adds the verified
user and role. The teardown ends it. `g.user_id`, `g.role` and `g.request_id` read the context (and
setting `g.user_id` or `g.role` writes it): the identity is stored once, and views keep reading it where Flask's
views do.
"""
import random
import re
import time
from dataclasses import replace
from typing import Any

from flask import Flask, g, request
from flask.ctx import _AppCtxGlobals

from ..runtime import context
from ..runtime.context import RequestContext
from ..runtime.timings import open_accounts

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's request id only when it is short and plain: it ends up in every log line.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The names of `g` that read the request context (never stored on `g` itself).
_FROM_CONTEXT = ("user_id", "role", "request_id")


class RequestGlobals(_AppCtxGlobals):
    """Flask's `g`, whose `user_id`, `role` and `request_id` read the request context (None when unset)."""

    @property
    def user_id(self) -> int | None:
        return context.current().user_id

    @user_id.setter
    def user_id(self, user_id: int | None) -> None:  # the identity still goes to the one context
        context.identify(user_id, context.current().role)

    @property
    def role(self) -> str | None:
        return context.current().role

    @role.setter
    def role(self, role: str | None) -> None:
        context.identify(context.current().user_id, role)

    @property
    def request_id(self) -> str | None:
        return context.current().request_id

    @request_id.setter
    def request_id(self, request_id: str | None) -> None:
        context.begin(replace(context.current(), request_id=request_id))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FROM_CONTEXT:  # Flask's g writes its __dict__ directly: route these to the context
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def get(self, name: str, default: Any = None) -> Any:
        if name in _FROM_CONTEXT:
            value = getattr(context.current(), name)
            return default if value is None else value
        return super().get(name, default)

    def __contains__(self, item: str) -> bool:
        if item in _FROM_CONTEXT:
            return getattr(context.current(), item) is not None
        return super().__contains__(item)


def begin_request() -> None:
    """Start this request's context (anonymous until its token is verified), clock and time accounts."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    # A correlation id, not a secret: the per-process generator (reseeded at fork) saves a system call.
    request_id = given if given and _REQUEST_ID.match(given) else f"{random.getrandbits(128):032x}"
    # Threads serve one request after another: every request starts as nobody, from its own address.
    context.begin(RequestContext(address=request.remote_addr, request_id=request_id,
                                 writes=request.method not in SAFE_METHODS))
    g.request_started = time.perf_counter()
    g.timings = open_accounts()


def end_request(error: BaseException | None = None) -> None:
    """End this request's context: what the thread logs next belongs to no request."""
    context.end()


def init_app(app: Flask) -> None:
    """Give every request of `app` its context before any other hook runs, and end it at teardown."""
    app.app_ctx_globals_class = RequestGlobals
    app.before_request_funcs.setdefault(None, []).insert(0, begin_request)
    app.teardown_request(end_request)
