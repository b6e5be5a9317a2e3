"""One LISTEN thread per worker process: every writer's invalidations reach this worker's cache.

The thread owns a dedicated connection (never a pooled one: a pooled connection goes back to other
requests, and a LISTEN must stay open). Notifications arriving within COALESCE_SECONDS of the first
are applied together. When the connection is lost the thread clears everything (notifications may
have been missed), reconnects with capped exponential backoff, and clears again once LISTEN is back.
"""
import logging
import os
import random
import select
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import Notify
from psycopg2.extensions import connection as Connection

from ..db import Queries, connect
from ..runtime.background import Background

log = logging.getLogger(__name__)
queries = Queries("cache.sql")

COALESCE_SECONDS = 0.1
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
# An idle connection is pinged this often, so a silently dead one is noticed (TCP keepalives help too).
IDLE_PING_SECONDS = 10.0


def _now() -> datetime:
    return datetime.now(UTC)


class Listener:
    """A daemon thread that LISTENs on a dedicated connection and hands payloads to `on_invalidate`."""

    def __init__(self, database_url: str, on_invalidate: Callable[[Iterable[str]], object],
                 on_idle: Callable[[], object] | None = None,
                 notices: Mapping[str, Callable[[str], object]] | None = None,
                 config: Mapping[str, Any] | None = None) -> None:
        self.database_url, self.config = database_url, config
        self.on_invalidate = on_invalidate
        self.on_idle: Callable[[], object] = on_idle or (lambda: None)
        # Other channels on the same connection, each handed to its callback at once (not coalesced).
        self.notices = dict(notices or {})
        self.state = "new"
        self.backend_pid: int | None = None
        self.connected_since: datetime | None = None
        self.reconnects = 0
        self.notifications = 0
        self.deliveries = 0
        self.last_delivery_at: datetime | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self._listening = threading.Event()
        self._backoff = BACKOFF_FIRST_SECONDS
        self._wake_r, self._wake_w = os.pipe()  # stop() writes here to end a select at once
        self._loop = Background(f"cache-listener-{os.getpid()}", self._listen, BACKOFF_MAX_SECONDS,
                                wake=lambda: os.write(self._wake_w, b"x"))

    @property
    def listening(self) -> bool:
        """Tell whether notifications are being received right now."""
        return self.state == "listening"

    def start(self, wait: float = 0.0) -> bool:
        """Start the thread; wait up to `wait` seconds for the first LISTEN; return whether it is listening."""
        self.state = "starting"
        self._loop.start()
        return self._listening.wait(wait)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and close its connection."""
        if self._loop.stopping:
            return
        self._loop.stop(timeout)
        self.state = "stopped"
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def alive(self) -> bool:
        """Tell whether the thread still runs."""
        return self._loop.alive()

    def status(self) -> dict[str, Any]:
        """Return the listener's state and counters."""
        return {
            "state": self.state, "backend_pid": self.backend_pid,
            "connected_since": self.connected_since.isoformat() if self.connected_since else None,
            "reconnects": self.reconnects, "notifications": self.notifications,
            "deliveries": self.deliveries,
            "last_delivery_at": self.last_delivery_at.isoformat() if self.last_delivery_at else None,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }

    def _connect(self) -> Connection:
        conn = connect(self.database_url, "listener", self.config, autocommit=True)
        with conn.cursor() as cur:
            cur.execute(queries.listen)
            for channel in self.notices:
                cur.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        return conn

    def _listen(self) -> float:
        """Connect, LISTEN and receive until stopped or lost; return the pause before the next attempt."""
        conn: Connection | None = None
        try:
            conn = self._connect()
            # Anything cached before this LISTEN may have missed a notification.
            self._deliver({""})
            self.backend_pid, self.connected_since = conn.get_backend_pid(), _now()
            self.state = "listening"
            self._listening.set()
            self._backoff = BACKOFF_FIRST_SECONDS
            self._receive(conn)
            return 0.0
        except Exception as exc:  # lost, or a bug: either way notifications may have been missed
            if self._loop.stopping:
                return 0.0
            if not isinstance(exc, (psycopg2.Error, OSError)):
                log.exception("cache listener failed")
            self._lost(exc)
            pause, self._backoff = self._backoff * random.uniform(0.5, 1.0), min(self._backoff * 2, BACKOFF_MAX_SECONDS)
            return pause
        finally:
            if conn is not None:
                conn.close()

    def _lost(self, exc: BaseException) -> None:
        was_listening = self.listening
        self.state = "reconnecting"
        self.backend_pid = self.connected_since = None
        # Shown by /api/health/cache: the class and the time only. The message names the database's host,
        # address and user, so it goes to the log, which operators read and clients do not.
        code = getattr(exc, "pgcode", None)
        self.last_error = f"{type(exc).__name__}" + (f" (SQLSTATE {code})" if code else "")
        self.last_error_at = _now()
        if was_listening:
            self.reconnects += 1
            log.warning("cache listener lost its connection (%s: %s); clearing the cache and reconnecting",
                        type(exc).__name__, str(exc).strip())
        else:
            log.warning("cache listener cannot connect (%s: %s); retrying", type(exc).__name__, str(exc).strip())
        self._deliver({""})

    def _receive(self, conn: Connection) -> None:
        """Read notifications until stopped; raise when the connection fails."""
        pending: set[str] = set()
        first_at: float | None = None
        last_ping = time.monotonic()
        while not self._loop.stopping:
            now = time.monotonic()
            if first_at is None:
                timeout = max(0.0, last_ping + IDLE_PING_SECONDS - now)
            else:
                timeout = max(0.0, first_at + COALESCE_SECONDS - now)
            readable, _, _ = select.select([conn.fileno(), self._wake_r], [], [], timeout)
            if self._wake_r in readable:
                os.read(self._wake_r, 64)
            if first_at is None and not readable:
                with conn.cursor() as cur:
                    cur.execute(queries.ping)
                last_ping = time.monotonic()
                self.on_idle()
            conn.poll()
            while conn.notifies:
                notify = conn.notifies.pop(0)
                self.notifications += 1
                if notify.channel in self.notices:
                    self._hand(notify)
                    continue
                pending.add(notify.payload)
                if first_at is None:
                    first_at = time.monotonic()
            if first_at is not None and time.monotonic() - first_at >= COALESCE_SECONDS:
                self._deliver(pending)
                pending, first_at = set(), None

    def _hand(self, notify: Notify) -> None:
        try:
            self.notices[notify.channel](notify.payload)
        except Exception:
            log.exception("handling a notification on %s failed", notify.channel)

    def _deliver(self, prefixes: Iterable[str]) -> None:
        self.deliveries += 1
        self.last_delivery_at = _now()
        try:
            self.on_invalidate(prefixes)
        except Exception:  # a bug in the cache must not stop invalidations from being received
            log.exception("cache invalidation failed")
