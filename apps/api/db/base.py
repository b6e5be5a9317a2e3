"""What the pool (pool.py) is built from: its records, its counters, connection checks."""
import os
import sys
import threading
import time
from collections import deque
from types import CodeType, FrameType
from typing import Any

import psycopg2
from psycopg2 import extensions as ext
from psycopg2.extensions import connection as Connection

from .connect import Settings, connect_until, wait_until
from .errors import PoolTimeout
from .queries import Queries

PERCENTILE_WINDOW = 1000  # acquire times kept for the percentiles
RECENT_WINDOW = 60.0      # seconds an error stays "recent"
# Frames of these modules are plumbing: a leak report names the first frame outside them.
_PLUMBING_PACKAGE = __name__.rpartition(".")[0]  # this package: the pool and the database helpers
_PLUMBING_MODULES = ("contextlib",)
queries = Queries("db.sql")


class PooledConnection:
    """One open pooled connection: when it expires, and since when it idles."""

    __slots__ = ("conn", "expires_at", "idle_since")

    def __init__(self, conn: Connection, expires_at: float, idle_since: float) -> None:
        self.conn, self.expires_at, self.idle_since = conn, expires_at, idle_since


class Borrower:
    """One lent connection: since when, where it was borrowed, by which thread, whether reported."""

    __slots__ = ("since", "_frame_globals", "_code", "_line", "_thread", "reported", "opened")

    def __init__(self, since: float, frame: FrameType | None, opened: bool = False) -> None:
        self.since, self._line, self.opened = since, frame.f_lineno if frame else 0, opened
        self._frame_globals: dict[str, Any] | None = frame.f_globals if frame else None
        self._code: CodeType | None = frame.f_code if frame else None
        self._thread, self.reported = threading.current_thread(), False

    @property
    def where(self) -> str:
        """Return "module:line (function)" of the borrower (formatted only when someone asks)."""
        if self._code is None or self._frame_globals is None:
            return "unknown"
        return f"{self._frame_globals.get('__name__', '?')}:{self._line} ({self._code.co_name})"

    @property
    def thread(self) -> str:
        return self._thread.name


class QueuedRequest:
    """A request in the queue; the pool sets `grant` and the event when its turn comes."""

    __slots__ = ("event", "grant")

    def __init__(self) -> None:
        self.event = threading.Event()
        # an idle connection, a slot to open one in (pool.py's Grant), or the PoolError that ends the wait
        self.grant: Any = None


class HealthProbe:
    """A dedicated autocommit connection for health probes, never lent to requests; one probe at a time,
    answered within its timeout (asynchronous: a pooler holding the query cannot hold the caller)."""

    def __init__(self, dsn: str, role: str, config: Settings = None, **overrides: Any) -> None:
        self.dsn, self.role, self.config, self.overrides = dsn, role, config, overrides
        self.conn: Connection | None = None
        self._lock = threading.Lock()

    def run(self, query: str, timeout: float) -> tuple[Any, ...] | None:
        """Run `query` and return its first row within `timeout` seconds, reconnecting once when the kept
        connection went stale."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise PoolTimeout("another probe is still running")
        try:
            for _ in range(2):
                fresh = self.conn is None or bool(self.conn.closed)
                if self.conn is None or fresh:
                    self.conn = connect_until(self.dsn, self.role, deadline, self.config, **self.overrides)
                conn = self.conn
                try:
                    with conn.cursor() as cur:
                        cur.execute(query)
                        wait_until(conn, deadline)
                        return cur.fetchone()
                except psycopg2.Error:
                    conn.close()
                    if fresh:
                        raise
        finally:
            self._lock.release()
        raise AssertionError("unreachable: the second try returns or raises")

    def close(self) -> None:
        """Close the probe connection, if open."""
        if self.conn is not None:
            self.conn.close()


class Counters:
    """The pool's counters (psycopg_pool's names plus extras), updated under the pool's lock."""

    NAMES = ("requests_num", "requests_queued", "requests_wait_ms", "requests_wait_max_ms", "requests_errors",
             "usage_ms", "returns_bad", "connections_num", "connections_ms", "connections_errors",
             "connections_lost", "connections_expired", "connections_idle_closed", "leaks_detected")
    requests_num: int
    requests_queued: int
    requests_wait_ms: float
    requests_wait_max_ms: float
    requests_errors: int
    usage_ms: float
    returns_bad: int
    connections_num: int
    connections_ms: float
    connections_errors: int
    connections_lost: int
    connections_expired: int
    connections_idle_closed: int
    leaks_detected: int
    _DISCARDED = {"lost": "connections_lost", "expired": "connections_expired",
                  "idle": "connections_idle_closed", "bad": "returns_bad"}

    def __init__(self) -> None:
        for name in self.NAMES:
            setattr(self, name, 0)
        self.started = time.monotonic()
        self._acquire_ms: deque[float] = deque(maxlen=PERCENTILE_WINDOW)
        self._errors_at: deque[float] = deque(maxlen=10_000)

    def acquired(self, seconds: float) -> None:
        """Record how long one getconn took."""
        self._acquire_ms.append(seconds * 1000)

    def waited(self, seconds: float) -> None:
        """Record how long one request waited in the queue."""
        self.requests_wait_ms += seconds * 1000
        self.requests_wait_max_ms = max(self.requests_wait_max_ms, seconds * 1000)

    def error(self, at: float) -> None:
        """Record a request that got no connection."""
        self.requests_errors += 1
        self._errors_at.append(at)

    def connected(self, started: float, failed: bool = False) -> None:
        """Record one connection attempt that began at `started`."""
        now = time.monotonic()
        self.connections_num += 1
        self.connections_ms += (now - started) * 1000
        if failed:
            self.connections_errors += 1
            self._errors_at.append(now)

    def discarded(self, reason: str) -> None:
        """Record a connection closed for `reason` (lost, expired, idle or bad)."""
        name = self._DISCARDED[reason]
        setattr(self, name, getattr(self, name) + 1)
        if reason == "lost":
            self._errors_at.append(time.monotonic())

    def snapshot(self, now: float) -> dict[str, Any]:
        """Return the counters, acquire-time percentiles and recent errors as a dict."""
        numbers: dict[str, Any] = {name: round(getattr(self, name), 3) for name in self.NAMES}
        samples = sorted(self._acquire_ms)
        for rank in (50, 95, 99):
            at = min(len(samples) - 1, -(-rank * len(samples) // 100) - 1)
            numbers[f"acquire_ms_p{rank}"] = round(samples[at], 3) if samples else 0
        while self._errors_at and self._errors_at[0] < now - RECENT_WINDOW:
            self._errors_at.popleft()
        numbers["errors_recent"] = len(self._errors_at)
        return numbers


def _is_plumbing(frame: FrameType) -> bool:
    module = str(frame.f_globals.get("__name__", ""))
    return module in _PLUMBING_MODULES or module == _PLUMBING_PACKAGE or module.startswith(_PLUMBING_PACKAGE + ".")


def borrower_frame() -> FrameType | None:
    """Return the nearest frame outside the pool and the database helpers (None if there is none)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_plumbing(frame):
        frame = frame.f_back
    return frame


def caller_location() -> str:
    """Return "file:line" of the nearest frame outside the pool and the database helpers."""
    return Borrower(0.0, borrower_frame()).where


def or_infinity(seconds: float | None) -> float:
    """Return `seconds`, or infinity when it is zero or negative (the setting is off)."""
    return seconds if seconds and seconds > 0 else float("inf")


def answers_round_trip(conn: Connection) -> bool:
    """Tell whether an idle connection answers a round trip (one SELECT 1, outside a transaction)."""
    if conn.closed or conn.info.transaction_status != ext.TRANSACTION_STATUS_IDLE:
        return False
    try:
        conn.autocommit = True  # client-side switch: no BEGIN, so one round trip and nothing to end
        with conn.cursor() as cur:
            cur.execute(queries.ping)
        conn.autocommit = False
        return True
    except psycopg2.Error:
        return False


def broken(conn: Connection) -> bool:
    """Tell whether a connection is closed or lost its server."""
    return conn.closed != 0 or conn.info.transaction_status == ext.TRANSACTION_STATUS_UNKNOWN


def reset(conn: Connection) -> bool:
    """Roll back whatever a returned connection left open; tell whether it can be lent again."""
    if broken(conn):
        return False
    status = conn.info.transaction_status
    if status == ext.TRANSACTION_STATUS_IDLE:
        return True
    if status == ext.TRANSACTION_STATUS_ACTIVE:  # a command still runs: nothing safe to do but close
        return False
    try:
        conn.rollback()
        return True
    except psycopg2.Error:
        return False


def detach(conn: Connection | None) -> None:
    """Point this process's copy of a connection's socket at /dev/null (after fork: the socket is
    the parent's, and closing it here would end the parent's session)."""
    if conn is None or conn.closed:
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.dup2(devnull, conn.fileno())
    finally:
        os.close(devnull)
