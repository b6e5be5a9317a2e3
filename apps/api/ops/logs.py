"""Structured JSON log lines, request ids, slow-request warnings and the Server-Timing header."""
import json
import logging
import os
import re
import sys
import time
from datetime import datetime, timezone

from flask import g, has_request_context, request

from ..runtime.timings import Accounts, open_accounts

log = logging.getLogger("apps.api.request")
REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's request id only when it is short and plain: it ends up in every log line.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line, with the request id when there is one."""

    def format(self, record):
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        if has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id
        attributes = vars(record)
        for key in attributes.keys() - _STANDARD_ATTRS:  # the `extra` fields (a set difference in C)
            if not key.startswith("_"):
                line[key] = attributes[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level="INFO"):
    """Send every log record of this process to stderr as JSON lines (once per process)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    # The logging HOWTO's "Optimization": the JSON line has its own pid and no source location, so skip
    # the caller's frame walk and the thread and process lookups of every record (one per request).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root.setLevel(level)
    # gunicorn's own loggers propagate to root in JSON too.
    for name in ("gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


def _start_request():
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if given and _REQUEST_ID.match(given) else os.urandom(16).hex()
    g.request_started = time.perf_counter()
    g.timings = open_accounts()


def _finish_request(response):
    from flask import current_app

    duration_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    timings = g.get("timings") or Accounts()
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    response.headers["Server-Timing"] = (
        f"db;dur={timings.db_ms:.2f}, cache;dur={timings.cache_ms:.2f}, "
        f"total;dur={duration_ms:.2f}")
    slow = duration_ms >= current_app.config["SLOW_REQUEST_MS"]
    fields = {
        "event": "request", "method": request.method,
        "route": request.url_rule.rule if request.url_rule else None,
        "path": request.path,  # never the query string: it may carry search terms
        "status": response.status_code, "duration_ms": round(duration_ms, 2),
        "user_id": g.get("user_id"), "ip": request.remote_addr,
    }
    log.log(logging.WARNING if slow else logging.INFO, "slow request" if slow else "request",
            extra=fields)
    return response


def init_app(app):
    """Log every request of `app` as JSON with its request id and timings."""
    if not app.testing:
        configure_logging(app.config["LOG_LEVEL"])
    app.before_request(_start_request)
    app.after_request(_finish_request)
