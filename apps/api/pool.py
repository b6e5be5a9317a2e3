"""The connection pool: the only module that touches psycopg2.pool.

A thin wrapper for now; see issue 3 for the hardening (bounded wait,
health checks, lifetimes, statistics).
"""
import os
import threading
from contextlib import contextmanager

import psycopg2
from psycopg2 import pool as pg_pool


class PoolError(Exception):
    """The pool cannot hand out a connection."""


class PoolTimeout(PoolError):
    """No connection became free within the timeout."""


class ConnectionPool:
    """A ThreadedConnectionPool that opens per process and hands out connections."""

    def __init__(self, dsn, min_size=2, max_size=10, timeout=5.0, name="api", **conn_kwargs):
        self.dsn = dsn
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self.name = name
        self.conn_kwargs = conn_kwargs
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._pool = pg_pool.ThreadedConnectionPool(min_size, max_size, dsn, **conn_kwargs)

    def getconn(self):
        """Borrow a connection."""
        try:
            return self._pool.getconn()
        except pg_pool.PoolError as exc:
            raise PoolTimeout(str(exc)) from exc

    def putconn(self, conn, close=False):
        """Give a borrowed connection back."""
        self._pool.putconn(conn, close=close or conn.closed != 0)

    @contextmanager
    def connection(self):
        """Borrow a connection for a block: commit on success, roll back on error, always return it."""
        conn = self.getconn()
        broken = False
        try:
            with conn:
                yield conn
        except psycopg2.OperationalError:
            broken = True
            raise
        finally:
            self.putconn(conn, close=broken)

    def stats(self):
        """Return the pool's counters."""
        used = len(self._pool._used)
        idle = len(self._pool._pool)
        return {"pool_min": self.min_size, "pool_max": self.max_size,
                "pool_size": used + idle, "pool_available": idle}

    def close(self):
        """Close every connection."""
        self._pool.closeall()
