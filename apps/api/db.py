"""The database for the application: one pool per process, opened after fork, and named SQL."""
import atexit
import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import psycopg2.extras
from flask import current_app

from .logs import add_db_time
from .pool import ConnectionPool

SQL_DIR = Path(__file__).parent / "sql"
_NAME_HEADER = re.compile(r"^--\s*name:\s*([a-z0-9_\-]+)\s*$", re.MULTILINE)

_pools = {}
_pools_lock = threading.Lock()


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


def get_pool(app=None):
    """Return this process's pool for `app`, creating it on first use (so after gunicorn forks)."""
    app = app or current_app._get_current_object()
    key = (id(app), os.getpid())
    found = _pools.get(key)
    if found is not None:
        return found
    with _pools_lock:
        if key not in _pools:
            _pools[key] = ConnectionPool(app.config["DATABASE_URL"], **pool_kwargs(app.config))
        return _pools[key]


def close_all_pools():
    """Close every pool this process opened."""
    for key in [key for key in _pools if key[1] == os.getpid()]:
        _pools.pop(key).close()


atexit.register(close_all_pools)


def current_pool_stats():
    """Return the statistics of this process's first open pool, or None when none is open."""
    pid = os.getpid()
    for (_, owner_pid), found in list(_pools.items()):
        if owner_pid == pid:
            return found.stats()
    return None


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


# Pool arguments that are not connection arguments.
_POOL_ONLY = ("min_size", "max_size", "timeout", "max_waiting", "max_lifetime", "max_idle", "leak_threshold")


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


class Queries:
    """Named SQL statements of one `.sql` file, each under a `-- name: verb-noun` header."""

    def __init__(self, filename):
        text = (SQL_DIR / filename).read_text()
        parts = _NAME_HEADER.split(text)
        self._statements = {}
        for name, body in zip(parts[1::2], parts[2::2]):
            lines = [line for line in body.strip().splitlines() if not line.lstrip().startswith("--")]
            self._statements[name.replace("-", "_")] = "\n".join(lines).strip().rstrip(";")

    def __getattr__(self, name):
        try:
            return self._statements[name]
        except KeyError:
            raise AttributeError(f"no statement named {name!r}") from None
