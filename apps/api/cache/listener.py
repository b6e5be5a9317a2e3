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
from datetime import datetime, timezone

import psycopg2

from ..db import Queries

log = logging.getLogger(__name__)
queries = Queries("cache.sql")

COALESCE_SECONDS = 0.1
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_MAX_SECONDS = 5.0
# An idle connection is pinged this often, so a silently dead one is noticed (TCP keepalives help too).
IDLE_PING_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5


def _now():
    return datetime.now(timezone.utc)


class Listener:
    """A daemon thread that LISTENs on a dedicated connection and hands payloads to `on_invalidate`."""

    def __init__(self, database_url, on_invalidate, on_idle=None):
        self.database_url = database_url
        self.on_invalidate = on_invalidate
        self.on_idle = on_idle or (lambda: None)
        self.state = "new"
        self.backend_pid = None
        self.connected_since = None
        self.reconnects = 0
        self.notifications = 0
        self.deliveries = 0
        self.last_delivery_at = None
        self.last_error = None
        self.last_error_at = None
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"cache-listener-{os.getpid()}", daemon=True)

    @property
    def listening(self):
        """Tell whether notifications are being received right now."""
        return self.state == "listening"

    def start(self, wait=0.0):
        """Start the thread; wait up to `wait` seconds for the first LISTEN; return whether it is listening."""
        self.state = "starting"
        self._thread.start()
        return self._listening.wait(wait)

    def stop(self, timeout=2.0):
        """Stop the thread and close its connection."""
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def status(self):
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

    def _connect(self):
        conn = psycopg2.connect(
            self.database_url, application_name=f"printshop-cache-listener-{os.getpid()}",
            connect_timeout=CONNECT_TIMEOUT_SECONDS, keepalives=1, keepalives_idle=10,
            keepalives_interval=5, keepalives_count=3)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(queries.listen)
        return conn

    def _run(self):
        backoff = BACKOFF_FIRST_SECONDS
        while not self._stop.is_set():
            conn = None
            try:
                conn = self._connect()
                # Anything cached before this LISTEN may have missed a notification.
                self._deliver({""})
                self.backend_pid, self.connected_since = conn.get_backend_pid(), _now()
                self.state = "listening"
                self._listening.set()
                backoff = BACKOFF_FIRST_SECONDS
                self._receive(conn)
            except (psycopg2.Error, OSError) as exc:
                if self._stop.is_set():
                    break
                self._lost(exc)
                self._stop.wait(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
            finally:
                if conn is not None:
                    conn.close()
        self.state = "stopped"

    def _lost(self, exc):
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

    def _receive(self, conn):
        """Read notifications until stopped; raise when the connection fails."""
        pending, first_at, last_ping = set(), None, time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if first_at is None:
                timeout = max(0.0, last_ping + IDLE_PING_SECONDS - now)
            else:
                timeout = max(0.0, first_at + COALESCE_SECONDS - now)
            readable, _, _ = select.select([conn, self._wake_r], [], [], timeout)
            if self._wake_r in readable:
                os.read(self._wake_r, 64)
            if first_at is None and not readable:
                with conn.cursor() as cur:
                    cur.execute(queries.ping)
                last_ping = time.monotonic()
                self.on_idle()
            conn.poll()
            while conn.notifies:
                pending.add(conn.notifies.pop(0).payload)
                self.notifications += 1
                if first_at is None:
                    first_at = time.monotonic()
            if first_at is not None and time.monotonic() - first_at >= COALESCE_SECONDS:
                self._deliver(pending)
                pending, first_at = set(), None

    def _deliver(self, prefixes):
        self.deliveries += 1
        self.last_delivery_at = _now()
        try:
            self.on_invalidate(prefixes)
        except Exception:  # a bug in the cache must not stop invalidations from being received
            log.exception("cache invalidation failed")
