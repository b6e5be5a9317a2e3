"""The connection pool: psycopg2's ThreadedConnectionPool made to wait, heal and report.

The registry keeps the books (which connections exist, which are lent out). This module decides
who gets one and when: requests wait in FIFO order up to a deadline, connections are opened
outside every lock, checked after idling, recycled by age and idleness, watched for leaks, and
never used from a forked child. psycopg2's own pool is the registry of open connections (registry.py).
"""
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

import psycopg2
from psycopg2.extensions import connection as Connection

from ..runtime.background import Background
from .base import (
    Borrower,
    Counters,
    HealthProbe,
    PooledConnection,
    QueuedRequest,
    answers_round_trip,
    borrower_frame,
    broken,
    caller_location,
    detach,
    or_infinity,
    reset,
)
from .breaker import Breaker
from .connect import Settings, answer_once, connect
from .errors import PoolClosed, PoolError, PoolForkError, PoolTimeout, PrimaryUnavailable, TooManyRequests
from .registry import ConnectionRegistry

__all__ = ["ConnectionPool", "PoolError", "PoolTimeout", "TooManyRequests", "PoolClosed", "PoolForkError"]

log = logging.getLogger(__name__)

CHECK_IDLE_AFTER = 0.5   # HikariCP's rule: check a connection that idled longer than this
LIFETIME_JITTER = 0.05   # expire up to 5 % early, so connections opened together don't expire together
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 0.25  # between failed connects; the cap bounds recovery time


class _Grant(Enum):
    SLOT = "slot"  # a grant to open a new connection in a reserved slot


_SLOT = _Grant.SLOT
# What a queued request is given: an idle connection, a slot to open one in, or the error that ends its wait.
Grant = Connection | _Grant
_live_pools: "weakref.WeakSet[ConnectionPool]" = weakref.WeakSet()
_process_id = os.getpid()  # kept current by the fork hook below: no getpid() call per checkout


class ConnectionPool:
    """A bounded, self-healing pool of psycopg2 connections for one process."""

    def __init__(self, dsn: str, min_size: int = 2, max_size: int = 10, timeout: float = 5.0, *,
                 max_waiting: int = 0, max_lifetime: float = 3600.0, max_idle: float = 600.0,
                 leak_threshold: float = 10.0, check_idle_after: float = CHECK_IDLE_AFTER, name: str = "pool",
                 config: Settings = None, breaker: bool = False, **conn_kwargs: Any) -> None:
        if max_size < 1 or not 0 <= min_size <= max_size:
            raise ValueError(f"need 0 <= min_size ({min_size}) <= max_size ({max_size}) and max_size >= 1")
        self.dsn, self.name, self.config, self.conn_kwargs = dsn, name, config, conn_kwargs
        self.min_size, self.max_size, self.timeout, self.max_waiting = min_size, max_size, timeout, max_waiting
        self.max_lifetime, self.max_idle = or_infinity(max_lifetime), or_infinity(max_idle)
        self.leak_threshold, self.check_idle_after = or_infinity(leak_threshold), check_idle_after
        self.pid = os.getpid()
        self.counters = Counters()
        self._lock = threading.Lock()
        self._registry = ConnectionRegistry(max_size)
        # Our records beside the registry: every open connection's PooledConnection, the idle ones (newest on
        # the right, lent first), the borrowers, the queued requests, and slots reserved for connections being opened.
        self._info: dict[int, PooledConnection] = {}
        self._idle: deque[Connection] = deque()
        self._loans: dict[int, Borrower] = {}
        self._waiters: deque[QueuedRequest] = deque()
        self._connecting = 0
        self._suspect_before = 0.0  # idle connections returned before this are checked whatever their idle time
        self._closed = False
        self._probe = HealthProbe(dsn, f"{name}-probe", config, **conn_kwargs)
        # The primary's pool fails fast while its server is known to be down (breaker.py).
        self.breaker = Breaker(lambda: answer_once(dsn, "breaker", config, **conn_kwargs)) if breaker else None
        tick = min(1.0, max(0.05, min(self.leak_threshold, self.max_idle, self.max_lifetime) / 4))
        # The first round runs at once: the minimum is warm before the first request.
        self._maintenance = Background(f"pool-{name}", self._maintain, tick).start()
        _live_pools.add(self)

    def getconn(self, timeout: float | None = None) -> Connection:
        """Borrow a connection, waiting in FIFO order up to `timeout` seconds (default: the pool's)."""
        self._check_pid()
        started = time.monotonic()
        timeout = self.timeout if timeout is None else timeout
        with self._lock:
            if self._closed:
                raise PoolClosed(f"pool {self.name} is closed")
            self.counters.requests_num += 1
            if self.breaker is not None and self.breaker.is_open:
                self.counters.error(started)
                self.breaker.check()
            grant = None if self._waiters else self._grant_locked()
            if grant is None:
                if self.max_waiting and len(self._waiters) >= self.max_waiting:
                    self.counters.error(started)
                    raise TooManyRequests(f"{len(self._waiters)} requests already wait for a connection")
                waiter = QueuedRequest()
                self._waiters.append(waiter)
                self.counters.requests_queued += 1
        if grant is None:
            grant = self._wait(waiter, started, timeout)
        conn, opened = self._ready(grant, started + timeout)
        loan = Borrower(time.monotonic(), borrower_frame(), opened)
        with self._lock:
            self._loans[id(conn)] = loan
            self.counters.acquired(loan.since - started)
        return conn

    def _grant_locked(self) -> Grant | None:
        """Take the newest idle connection or reserve a free slot to open one in; None when all are lent."""
        if self._idle:
            return self._idle.pop()
        if self._size_locked() < self.max_size:
            self._connecting += 1
            return _SLOT
        return None

    def _size_locked(self) -> int:
        return len(self._info) + self._connecting

    def _dispatch_locked(self) -> None:
        """Hand idle connections and free slots to the waiters, first come first served."""
        while self._waiters:
            grant = self._grant_locked()
            if grant is None:
                return
            waiter = self._waiters.popleft()
            waiter.grant = grant
            waiter.event.set()

    def _wait(self, waiter: QueuedRequest, started: float, timeout: float) -> Grant:
        waiter.event.wait(max(0.0, started + timeout - time.monotonic()))
        with self._lock:
            self.counters.waited(time.monotonic() - started)
            if waiter.grant is None:
                self._waiters.remove(waiter)
                self.counters.error(started)
        if isinstance(waiter.grant, PoolError):
            raise waiter.grant
        if waiter.grant is None:
            raise PoolTimeout(f"no connection free within {timeout:g} s ({self.max_size} lent out)")
        grant: Grant = waiter.grant
        return grant

    def _ready(self, grant: Grant | None, deadline: float) -> tuple[Connection, bool]:
        """Turn a grant into a usable connection, and tell whether it was just opened: open one in a
        reserved slot, or vet an idle one."""
        while grant is not _SLOT:
            assert grant is not None  # our freed slot guarantees a grant
            reason = self._unfit(grant)
            if reason is None:
                return grant, False
            grant.close()
            with self._lock:
                if self._closed:
                    raise PoolClosed(f"pool {self.name} is closed")
                self._forget_locked(grant, reason)
                grant = self._grant_locked()  # our freed slot guarantees a grant
                self._dispatch_locked()
        return self._open(deadline), True

    def _unfit(self, conn: Connection) -> str | None:
        """Say why an idle connection must not be handed out (None when it may)."""
        now = time.monotonic()
        info = self._info[id(conn)]
        if now >= info.expires_at:
            return "expired"
        if now - info.idle_since > self.max_idle:
            return "idle"
        suspect = info.idle_since < self._suspect_before or now - info.idle_since > self.check_idle_after
        if suspect and not answers_round_trip(conn):
            return "lost"
        return None

    def _open(self, deadline: float) -> Connection:
        """Open a connection in a reserved slot, retrying with backoff until `deadline`."""
        delay = BACKOFF_FIRST
        while True:
            try:
                conn = self._new_connection()
            except psycopg2.Error as exc:
                if self.breaker is not None:
                    self.breaker.trip(exc)
                down = self.breaker is not None and self.breaker.is_open
                if down or deadline - time.monotonic() <= delay:
                    with self._lock:
                        self._connecting -= 1
                        self.counters.error(time.monotonic())
                        self._dispatch_locked()
                    if down:
                        raise PrimaryUnavailable(f"could not connect to the database: {str(exc).strip()}") from exc
                    raise PoolTimeout(f"could not connect to the database: {str(exc).strip()}") from exc
                time.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            with self._lock:
                self._connecting -= 1
                if not self._closed:
                    self._register_locked(conn)
                    return conn
            conn.close()
            raise PoolClosed(f"pool {self.name} closed while connecting")

    def _new_connection(self) -> Connection:
        """Open one connection, outside any lock, and count it."""
        started = time.monotonic()
        try:
            conn = connect(self.dsn, self.name, self.config, **self.conn_kwargs)
        except psycopg2.Error:
            with self._lock:
                self.counters.connected(started, failed=True)
            raise
        with self._lock:
            self.counters.connected(started)
        if self.breaker is not None:
            self.breaker.succeeded()
        return conn

    def _register_locked(self, conn: Connection) -> None:
        """Register a newly opened connection and start its record (lifetime with jitter, idle since now)."""
        now = time.monotonic()
        lifetime = self.max_lifetime * (1 - random.uniform(0, LIFETIME_JITTER))
        self._registry.register(conn)
        self._info[id(conn)] = PooledConnection(conn, now + lifetime, now)

    def _forget_locked(self, conn: Connection, reason: str) -> None:
        """Drop a closed connection from the registry and the records, counting why."""
        self._info.pop(id(conn), None)
        if not self._closed:
            self._registry.close(conn)
        self.counters.discarded(reason)
        if reason in ("lost", "bad"):  # the server may have restarted: vet every idle connection once
            self._suspect_before = time.monotonic()

    def putconn(self, conn: Connection, close: bool = False) -> None:
        """Give a borrowed connection back: roll back what it left open, close it if broken or old."""
        self._check_pid()
        with self._lock:
            loan = self._loans.pop(id(conn), None)
        if loan is None:
            log.warning("ignored the return of a connection that is not lent out (returned twice?) at %s",
                        caller_location())
            return
        now = time.monotonic()
        reason = "bad" if close or not reset(conn) else None
        if reason is None and now >= self._info[id(conn)].expires_at:
            reason = "expired"
        if reason:
            if self.breaker is not None and loan.opened and broken(conn):
                # A connection opened for this very loan broke: not a stale one after a restart, the
                # server (or the one behind PgBouncer) is unreachable now.
                self.breaker.trip(psycopg2.OperationalError("a fresh connection broke"), at_once=True)
            conn.close()
        with self._lock:
            self.counters.usage_ms += (now - loan.since) * 1000
            if self._closed:
                conn.close()
            elif reason:
                self._forget_locked(conn, reason)
            else:
                self._info[id(conn)].idle_since = now
                self._idle.append(conn)
            self._dispatch_locked()
        if loan.reported:
            log.warning("connection borrowed at %s came back after %.1f s", loan.where, now - loan.since)

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[Connection]:
        """Borrow a connection for a block: commit on success, roll back on error, always give it back."""
        conn = self.getconn(timeout)
        try:
            with conn:
                yield conn
        finally:
            self.putconn(conn, close=broken(conn))

    def probe(self, query: str = "SELECT 1", timeout: float | None = None) -> tuple[Any, ...] | None:
        """Run `query` on a dedicated connection that requests never borrow; return its first row."""
        self._check_pid()
        return self._probe.run(query, self.timeout if timeout is None else timeout)

    def stats(self) -> dict[str, Any]:
        """Return the statistics: psycopg_pool's names, always present and zero-filled, plus extras."""
        now = time.monotonic()
        with self._lock:
            idle = len(self._idle)
            lent = len(self._info) - idle
            numbers = self.counters.snapshot(now)
            numbers.update(
                pool_min=self.min_size, pool_max=self.max_size, pool_size=idle + lent + self._connecting,
                pool_available=idle, pool_in_use=lent, connections_opening=self._connecting,
                requests_waiting=len(self._waiters),
                leaks_open=sum(now - loan.since > self.leak_threshold for loan in self._loans.values()))
        numbers.update(pid=self.pid, age_s=round(now - self.counters.started, 3))
        return numbers

    def leaks(self) -> list[dict[str, Any]]:
        """Return the loans held longer than the leak threshold: where, by which thread, how long."""
        now = time.monotonic()
        with self._lock:
            loans = list(self._loans.values())
        return [{"where": loan.where, "thread": loan.thread, "held_s": round(now - loan.since, 1)}
                for loan in loans if now - loan.since > self.leak_threshold]

    def close(self) -> None:
        """Close every connection and refuse new requests; in a forked child, let go of them instead."""
        if os.getpid() != self.pid:
            self._detach()
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
            while self._waiters:
                waiter = self._waiters.popleft()
                waiter.grant = PoolClosed(f"pool {self.name} is closed")
                waiter.event.set()
        self._maintenance.stop(5)
        if self.breaker is not None:
            self.breaker.close()
        with self._lock:
            self._registry.close_all()
            self._idle.clear()
        self._probe.close()

    def _check_pid(self) -> None:
        if _process_id != self.pid:
            message = (f"pool {self.name!r} was opened in process {self.pid} and cannot serve process "
                       f"{os.getpid()}: open pools after fork (gunicorn without --preload; db.get_pool does)")
            log.error(message)
            raise PoolForkError(message)

    def _detach(self) -> None:
        for conn in [*(info.conn for info in list(self._info.values())), self._probe.conn]:
            detach(conn)

    def _maintain(self) -> None:
        """One round of maintenance: report leaks, close what expired or idles too long, refill the minimum."""
        self._report_leaks()
        self._shrink()
        self._fill()

    def _report_leaks(self) -> None:
        now = time.monotonic()
        with self._lock:
            fresh = [loan for loan in self._loans.values()
                     if not loan.reported and now - loan.since > self.leak_threshold]
            for loan in fresh:
                loan.reported = True
                self.counters.leaks_detected += 1
        for loan in fresh:
            log.warning("possible connection leak: borrowed at %s by thread %s, held %.1f s (threshold %g s)",
                        loan.where, loan.thread, now - loan.since, self.leak_threshold)

    def _shrink(self) -> None:
        """Close idle connections past their lifetime, and those idle too long above the minimum."""
        now = time.monotonic()
        victims: list[tuple[Connection, str]] = []
        with self._lock:
            size = self._size_locked()
            for conn in list(self._idle):  # oldest returned first: the pool lends the newest
                info = self._info[id(conn)]
                if now >= info.expires_at:
                    victims.append((conn, "expired"))
                elif now - info.idle_since > self.max_idle and size - len(victims) > self.min_size:
                    victims.append((conn, "idle"))
            for conn, _ in victims:  # no longer lent, still counted until struck from the registry
                self._idle.remove(conn)
        for conn, _ in victims:
            conn.close()
        with self._lock:
            for conn, reason in victims:
                if not self._closed:
                    self._forget_locked(conn, reason)
            self._dispatch_locked()

    def _fill(self) -> None:
        """Open connections one at a time up to the minimum; stop at the first failure (no storm)."""
        while True:
            with self._lock:
                if self._closed or self._size_locked() >= self.min_size:
                    return
                self._connecting += 1
            conn: Connection | None
            try:
                conn = self._new_connection()
            except psycopg2.Error as exc:
                conn = None
                if self.breaker is not None:
                    self.breaker.trip(exc)
            with self._lock:
                self._connecting -= 1
                kept = conn is not None and not self._closed
                if conn is not None and kept:
                    self._register_locked(conn)
                    self._idle.append(conn)
                self._dispatch_locked()
            if not kept:
                if conn is not None:
                    conn.close()
                return


def _detach_after_fork() -> None:
    global _process_id
    _process_id = os.getpid()
    for pool in list(_live_pools):
        if pool.pid != os.getpid():
            pool._detach()


os.register_at_fork(after_in_child=_detach_after_fork)
