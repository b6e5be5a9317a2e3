"""Structured JSON log lines, written by log_writer.py's thread, with the request id of the request context.

The request hook that logs each request lives in web/request_log.py.
"""
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from ..runtime import context
from .log_writer import LineWriter

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),
        }
        request_id = context.current().request_id
        if request_id is not None:
            line["request_id"] = request_id
        attributes = vars(record)
        for key in attributes.keys() - _STANDARD_ATTRS:  # the `extra` fields (a set difference in C)
            if not key.startswith("_"):
                line[key] = attributes[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class QueuedLineHandler(logging.Handler):
    """Format a record in the caller's thread (it may need the request) and queue the line for the writer."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self.writer = writer
        self.setFormatter(JsonFormatter())

    def createLock(self) -> None:
        self.lock = None  # the writer's deque.append is atomic: no handler lock for threads to queue on

    def handle(self, record: logging.LogRecord) -> bool:
        passed = bool(self.filter(record))
        if passed:
            self.emit(record)
        return passed  # as Handler.handle: whether the record was emitted

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.put(self.format(record))
        except Exception:
            self.handleError(record)


_writer: list[LineWriter] = []  # this process's LineWriter once configure_logging ran (there is one stderr per process)


def configure_logging(level: str = "INFO") -> None:
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


def served_writer(logger: logging.Logger) -> LineWriter | None:
    """Return this process's line writer when configure_logging ran and `logger` has no handler of its own."""
    root_handlers = logging.root.handlers
    if len(root_handlers) == 1 and type(root_handlers[0]) is QueuedLineHandler and not logger.handlers:
        return _writer[0]
    return None
