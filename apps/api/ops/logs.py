"""Structured JSON log lines (written by log_writer.py's thread), request ids, slow-request warnings, Server-Timing."""
import json
import logging
import os
import random
import re
import sys
import time
from datetime import UTC, datetime

from flask import g, has_request_context, request

from ..runtime.timings import Accounts, open_accounts
from .log_writer import LineWriter

log = logging.getLogger("apps.api.request")
REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's request id only when it is short and plain: it ends up in every log line.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line, with the request id when there is one."""

    def format(self, record):
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
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


class QueuedLineHandler(logging.Handler):
    """Format a record in the caller's thread (it may need the request) and queue the line for the writer."""

    def __init__(self, writer):
        super().__init__()
        self.writer = writer
        self.setFormatter(JsonFormatter())

    def createLock(self):
        self.lock = None  # the writer's deque.append is atomic: no handler lock for threads to queue on

    def handle(self, record):
        if self.filter(record):
            self.emit(record)
        return record

    def emit(self, record):
        try:
            self.writer.put(self.format(record))
        except Exception:
            self.handleError(record)


_writer = []  # this process's LineWriter once configure_logging ran (there is one stderr per process)


def configure_logging(level="INFO"):
    """Send every log record of this process to stderr as JSON lines, written by one thread (once per process)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    if not _writer:
        sys.stderr.flush()
        _writer.append(LineWriter(sys.stderr.fileno()))
    handler = QueuedLineHandler(_writer[0])
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
    # A correlation id, not a secret: the per-process generator (reseeded at fork) saves a system call.
    g.request_id = given if given and _REQUEST_ID.match(given) else f"{random.getrandbits(128):032x}"
    g.request_started = time.perf_counter()
    g.timings = open_accounts()


def _finish_request(response):
    from flask import current_app

    duration_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    timings = g.get("timings") or Accounts()
    # add, not set: no scan for an earlier value (nothing else sets these two).
    response.headers.add(REQUEST_ID_HEADER, g.get("request_id", ""))
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
        "user_id": g.get("user_id"), "ip": request.remote_addr,
    }
    message = "slow request" if slow else "request"
    root_handlers = logging.root.handlers
    if len(root_handlers) == 1 and type(root_handlers[0]) is QueuedLineHandler and not log.handlers:
        # Served (configure_logging ran): the writer thread formats the line; no LogRecord, no handler lock.
        _writer[0].put((time.time(), "warning" if slow else "info", message, log.name, fields, g.get("request_id")))
    else:
        log.log(level, message, extra=fields)  # tests (caplog) and anyone who gave this logger a handler
    return response


def init_app(app):
    """Log every request of `app` as JSON with its request id and timings."""
    if not app.testing:
        configure_logging(app.config["LOG_LEVEL"])
    app.before_request(_start_request)
    app.after_request(_finish_request)
