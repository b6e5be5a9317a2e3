"""The application's database: one pool per process owned by the app, transactions, named SQL.

`init_app(app)` keeps a `Database` in `app.extensions["db"]`. Its pool opens lazily in the process
that first asks for it, so after gunicorn forks; gunicorn's `post_worker_init` warms it, and
`worker_exit` and the test fixtures close it through the app (`close(app)`). Only this package
imports psycopg2.pool; routes borrow connections through `connection()` and `cursor()`.
"""
import os
import time
from contextlib import contextmanager

import psycopg2
import psycopg2.extras
from flask import current_app

from ..logs import add_db_time
from .errors import PoolClosed, PoolError, PoolForkError, PoolTimeout, TooManyRequests
from ..per_process import PerProcess
from .pool import ConnectionPool
from .queries import Queries

__all__ = ["init_app", "get_pool", "pool_stats", "close", "connection", "cursor", "Queries", "Database",
           "PoolError", "PoolTimeout", "TooManyRequests", "PoolClosed", "PoolForkError"]

EXTENSION = "db"
# Pool arguments that are not connection arguments.
_POOL_ONLY = ("min_size", "max_size", "timeout", "max_waiting", "max_lifetime", "max_idle", "leak_threshold")


def pool_kwargs(config):
    """Return the ConnectionPool arguments that `config` asks for."""
    return dict(
        min_size=config["DB_POOL_MIN_CONNECTIONS"],
        max_size=config["DB_POOL_MAX_CONNECTIONS"],
        timeout=config["DB_POOL_TIMEOUT"],
        max_waiting=config["DB_POOL_MAX_WAITING"],
        max_lifetime=config["DB_POOL_MAX_LIFETIME"],
        max_idle=config["DB_POOL_MAX_IDLE"],
        leak_threshold=config["DB_POOL_LEAK_THRESHOLD"],
        connect_timeout=config["DB_CONNECT_TIMEOUT"],
        # A server that vanished without closing the socket: unacknowledged data (a health check,
        # a query) fails after the connect timeout, idle connections are probed by TCP keepalives.
        tcp_user_timeout=config["DB_CONNECT_TIMEOUT"] * 1000,
        keepalives_idle=30, keepalives_interval=10, keepalives_count=3,
        application_name=f"printshop-api-{os.getpid()}",
        options=(f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']}"
                 f" -c idle_in_transaction_session_timeout={config['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS']}"
                 " -c timezone=UTC"),
    )


class Database:
    """One app's database in this process: a pool opened on first use, in the process that uses it."""

    def __init__(self, config):
        self.config = config
        self._pool = PerProcess(lambda: ConnectionPool(config["DATABASE_URL"], **pool_kwargs(config)))

    def pool(self):
        """Return this process's pool, opening it on first use (a forked child opens its own)."""
        return self._pool.get()

    def stats(self):
        """Return this process's pool statistics, or None when it has not opened its pool."""
        pool = self._pool.peek()
        return pool.stats() if pool is not None else None

    def close(self):
        """Close this process's pool (a later use opens a new one)."""
        self._pool.close()


def init_app(app):
    """Give `app` its database (the pool itself opens on first use)."""
    app.extensions[EXTENSION] = Database(app.config)


def _database(app=None):
    return (app or current_app).extensions[EXTENSION]


def get_pool(app=None):
    """Return this process's pool of `app` (default: the current app), opening it on first use."""
    return _database(app).pool()


def pool_stats(app=None):
    """Return the statistics of `app`'s pool in this process, or None when it is not open."""
    return _database(app).stats()


def close(app):
    """Close `app`'s pool in this process."""
    _database(app).close()


@contextmanager
def connection():
    """Borrow a pooled connection for one transaction: commit on success, roll back on error."""
    started = time.perf_counter()
    try:
        if current_app.config["DB_POOL_MODE"] == "none":
            with _unpooled_connection() as conn:
                yield conn
        else:
            with get_pool().connection() as conn:
                yield conn
    finally:
        add_db_time((time.perf_counter() - started) * 1000)


@contextmanager
def _unpooled_connection():
    """Open a connection for one transaction and close it after (DB_POOL_MODE=none: the benchmark's twin)."""
    kwargs = {k: v for k, v in pool_kwargs(current_app.config).items() if k not in _POOL_ONLY}
    conn = psycopg2.connect(current_app.config["DATABASE_URL"], **kwargs)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@contextmanager
def cursor():
    """Open a dict cursor inside one pooled transaction."""
    with connection() as conn:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            yield cur
