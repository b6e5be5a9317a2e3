"""One writer thread per process that formats and writes the JSON log lines, so request threads never wait on I/O.

A request thread only appends its line's fields to a deque (atomic in C: no lock, no system call, no
thread to wake); the writer wakes every INTERVAL seconds, takes whatever has queued up, formats it and
writes whole lines in as few `write` calls as fit in PIPE_BUF (4 KiB), so lines of several workers
sharing one pipe never interleave. Waking the writer per line (a blocking queue) cost more than the line.
"""
import atexit
import json
import os
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

from ..runtime.background import Background

# Writes to a pipe up to this size are atomic (POSIX PIPE_BUF): a batch never splits another worker's line.
BATCH_BYTES = 4096
# Lines reach the log at most this late; an idle worker wakes this often for nothing (a few µs each).
INTERVAL = 0.05
# Lines kept while the log cannot be written (a stuck terminal); past it the oldest are dropped.
MAX_QUEUED = 100_000


# A queued item: a ready line, a request tuple (see format_request_line), or an Event to set once written.
Item = str | tuple[Any, ...] | threading.Event


def format_request_line(item: tuple[Any, ...]) -> str:
    """Return the JSON line of a queued request: (created, level, message, logger, fields, request id)."""
    created, level, message, logger, fields, request_id = item
    line = {"ts": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
            "level": level, "logger": logger, "message": message, "pid": os.getpid()}
    if request_id is not None:
        line["request_id"] = request_id
    line.update(fields)
    return json.dumps(line, default=str)


class LineWriter:
    """Queue log lines (ready text, or request tuples formatted later) and write them from one thread."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the parent's queue and thread stay the parent's
        atexit.register(self.flush)

    def _reset(self) -> None:
        self.queue: deque[Item] = deque(maxlen=MAX_QUEUED)
        self.thread: Background | None = None
        self.pid = os.getpid()

    def put(self, item: Item) -> None:
        """Queue one line: a str, a request tuple (see format_request_line), or a threading.Event to set."""
        if self.thread is None:
            self._start()
        self.queue.append(item)

    def _start(self) -> None:
        loop = Background("log-writer", self._round, INTERVAL)
        if self.thread is None:  # two first lines at once start at most one extra loop, which only drains
            self.thread = loop
            loop.start()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every line queued so far is written (at exit, and by tests)."""
        if self.thread is None or self.pid != os.getpid():
            return
        written = threading.Event()
        self.queue.append(written)
        self.thread.run_now()
        written.wait(timeout)

    def _round(self) -> None:
        batch: list[Item] = []
        try:
            while True:
                batch.append(self.queue.popleft())
        except IndexError:
            pass
        if batch:
            self._write(batch)

    def _write(self, batch: list[Item]) -> None:
        chunk: list[bytes] = []
        events: list[threading.Event] = []
        size = 0
        for item in batch:
            if isinstance(item, threading.Event):
                events.append(item)
                continue
            try:
                line = (item if isinstance(item, str) else format_request_line(item)) + "\n"
            except Exception as exc:  # a line that cannot be formatted must not stop the writer
                line = json.dumps({"level": "error", "logger": "apps.api.log_writer",
                                   "message": f"unformattable log line: {type(exc).__name__}"}) + "\n"
            data = line.encode("utf-8", "backslashreplace")
            if chunk and size + len(data) > BATCH_BYTES:
                self._write_all(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(data)
            size += len(data)
        if chunk:
            self._write_all(b"".join(chunk))
        for event in events:
            event.set()

    def _write_all(self, data: bytes) -> None:
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:
            pass  # stderr closed or full: losing a log line beats stopping the service
