"""The request hook that logs each answered request as one JSON line and adds its id and Server-Timing headers.

The lines are written by ops/log_writer.py's thread (ops/logs.py configures it); the request id, user and
address come from the request context (web/context.py).
"""
import logging
import time

from flask import Flask, Response, current_app, g, request

from ..ops import logs
from ..runtime import context
from ..runtime.timings import Accounts
from .context import REQUEST_ID_HEADER

log = logging.getLogger("apps.api.request")


def finish_request(response: Response) -> Response:
    """Add X-Request-ID and Server-Timing to `response` and log the request (a warning when slow)."""
    serving = context.current()
    duration_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    timings = g.get("timings") or Accounts()
    # add, not set: no scan for an earlier value (nothing else sets these two).
    response.headers.add(REQUEST_ID_HEADER, serving.request_id or "")
    response.headers.add(
        "Server-Timing", f"db;dur={timings.db_ms:.2f}, cache;dur={timings.cache_ms:.2f}, "
        f"total;dur={duration_ms:.2f}")
    slow = duration_ms >= current_app.config["SLOW_REQUEST_MS"]
    level = logging.WARNING if slow else logging.INFO
    if not log.isEnabledFor(level):
        return response
    fields = {
        "event": "request", "method": request.method,
        "route": request.url_rule.rule if request.url_rule else None,
        "path": request.path,  # never the query string: it may carry search terms
        "status": response.status_code, "duration_ms": round(duration_ms, 2),
        "user_id": serving.user_id, "ip": serving.address,
    }
    message = "slow request" if slow else "request"
    writer = logs.served_writer(log)
    if writer is not None:
        # Served (configure_logging ran): the writer thread formats the line; no LogRecord, no handler lock.
        writer.put((time.time(), "warning" if slow else "info", message, log.name, fields, serving.request_id))
    else:
        log.log(level, message, extra=fields)  # tests (caplog) and anyone who gave this logger a handler
    return response


def init_app(app: Flask) -> None:
    """Log every request of `app` as JSON with its request id and timings."""
    if not app.testing:
        logs.configure_logging(app.config["LOG_LEVEL"])
    app.after_request(finish_request)
