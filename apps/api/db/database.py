"""One app's database in one process: the primary's pool, the replicas, the per-transaction settings
and who wrote lately; and how the settings become connection arguments."""
import os

from flask import g, has_request_context, request

from ..runtime.per_process import PerProcess
from .pool import ConnectionPool
from .queries import Queries
from .replicas import ReplicaSet
from .routing import RecentWriters

queries = Queries("db.sql")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Pool arguments that are not connection arguments.
POOL_ONLY = ("min_size", "max_size", "timeout", "max_waiting", "max_lifetime", "max_idle", "leak_threshold")


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
        # No `options`: PgBouncer refuses that startup parameter. The settings go per transaction.
        application_name=f"printshop-api-{os.getpid()}",
    )


def direct_url(config):
    """Return the URL of a direct session connection to the primary (LISTEN, migrations, advisory locks)."""
    return config.get("DATABASE_DIRECT_URL") or config["DATABASE_URL"]


def replica_urls(config):
    """Return the replica URLs of DATABASE_REPLICA_URLS (comma-separated)."""
    return [url.strip() for url in (config.get("DATABASE_REPLICA_URLS") or "").split(",") if url.strip()]


class Database:
    """One app's database in this process: a pool opened on first use, in the process that uses it."""

    def __init__(self, config):
        self.config = config
        self._pool = PerProcess(lambda: ConnectionPool(config["DATABASE_URL"], **pool_kwargs(config)))
        self.replica_urls = replica_urls(config)
        self._replicas = PerProcess(self._open_replicas)
        self.writers = RecentWriters(keep_seconds=max(60.0, 4 * config["DB_REPLICA_MAX_LAG_SECONDS"]))
        self.settings_params = {"statement_timeout": int(config["DB_STATEMENT_TIMEOUT_MS"]),
                                "idle_timeout": int(config["DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"])}
        self._settings_sql = None

    def _open_replicas(self):
        kwargs = pool_kwargs(self.config)
        conn_kwargs = {k: v for k, v in kwargs.items() if k not in POOL_ONLY}

        def open_pool(url):
            return ConnectionPool(url, **dict(kwargs, min_size=0), name="replica")

        return ReplicaSet(self.config["DATABASE_URL"], self.replica_urls, open_pool, conn_kwargs,
                          self.config["DB_REPLICA_MAX_LAG_SECONDS"])

    def replicas(self):
        """Return this process's replica set (its monitor starts on first use), or None without replicas."""
        return self._replicas.get() if self.replica_urls else None

    def settings_sql(self, cur):
        """Return the per-transaction settings as SQL text with its values rendered (once per app)."""
        if self._settings_sql is None:
            self._settings_sql = cur.mogrify(queries.set_transaction_settings, self.settings_params).decode()
        return self._settings_sql

    def first_statements(self, cur):
        """Return what a transaction sends before its first statement: settings, and a write notice."""
        text = self.settings_sql(cur) + ";"
        if self.replica_urls and _writing_user() is not None:
            text += "\n" + cur.mogrify(queries.notify_write, {"user_id": str(_writing_user())}).decode() + ";"
        return text

    def wrote(self):
        """Note after a commit that this request's user wrote (their reads wait for a replica past it)."""
        if self.replica_urls and _writing_user() is not None:
            self.writers.mark(_writing_user())

    def choose_replica(self):
        """Return a replica for this request's reads, or None when the primary must answer."""
        replicas = self.replicas()
        if replicas is None or not self.writers.live():  # write notices may be missed: stay on the primary
            return None
        fresh_after = g.get("fresh_after", 0.0) if has_request_context() else 0.0
        user_id = g.get("user_id") if has_request_context() else None
        if user_id is not None:
            fresh_after = max(fresh_after, self.writers.since(user_id))
        return replicas.choose(fresh_after)

    def pool(self):
        """Return this process's pool, opening it on first use (a forked child opens its own)."""
        return self._pool.get()

    def stats(self):
        """Return this process's pool statistics, or None when it has not opened its pool."""
        pool = self._pool.peek()
        return pool.stats() if pool is not None else None

    def databases(self):
        """Return the primary and each replica: name, role, state, lag and pool statistics (never an address)."""
        replicas = self._replicas.peek()
        primary = {"name": "primary", "role": "primary", "lag_s": 0.0, "pool": self.stats(),
                   "state": "down" if replicas is not None and replicas.primary_error else "up"}
        return [primary] + (replicas.stats() if replicas is not None else [])

    def close(self):
        """Close this process's pool and replicas (a later use opens new ones)."""
        self._replicas.close()
        self._pool.close()


def _writing_user():
    """Return the user of a request that may write (not GET, HEAD or OPTIONS), else None."""
    if has_request_context() and request.method not in SAFE_METHODS:
        return g.get("user_id")
    return None
