"""One app's database in one process: the primary's pool, the replicas, the per-transaction settings
and who wrote lately; and the pool's arguments from the config."""
from collections.abc import Callable, Mapping
from typing import Any

from psycopg2.extensions import cursor as Cursor

from ..runtime.per_process import PerProcess
from . import caller
from .pool import ConnectionPool
from .queries import Queries
from .replicas import Replica, ReplicaSet
from .routing import RecentWriters

queries = Queries("db.sql")


def pool_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ConnectionPool arguments that `config` asks for (connections: db/connect.py)."""
    return dict(
        min_size=config["DB_POOL_MIN_CONNECTIONS"],
        max_size=config["DB_POOL_MAX_CONNECTIONS"],
        timeout=config["DB_POOL_TIMEOUT"],
        max_waiting=config["DB_POOL_MAX_WAITING"],
        max_lifetime=config["DB_POOL_MAX_LIFETIME"],
        max_idle=config["DB_POOL_MAX_IDLE"],
        leak_threshold=config["DB_POOL_LEAK_THRESHOLD"],
        config=config,
    )


def direct_url(config: Mapping[str, Any]) -> str:
    """Return the URL of a direct session connection to the primary (LISTEN, migrations, advisory locks)."""
    return str(config.get("DATABASE_DIRECT_URL") or config["DATABASE_URL"])


def replica_urls(config: Mapping[str, Any]) -> list[str]:
    """Return the replica URLs of DATABASE_REPLICA_URLS (comma-separated)."""
    return [url.strip() for url in (config.get("DATABASE_REPLICA_URLS") or "").split(",") if url.strip()]


class Database:
    """One app's database in this process: a pool opened on first use, in the process that uses it."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._pool: PerProcess[ConnectionPool] = PerProcess(
            lambda: ConnectionPool(config["DATABASE_URL"], **pool_kwargs(config), breaker=True))
        self._hears_writes: Callable[[], bool] = lambda: False
        self.replica_urls = replica_urls(config)
        self._replicas: PerProcess[ReplicaSet] = PerProcess(self._open_replicas)
        self.writers = RecentWriters(keep_seconds=max(60.0, 4 * config["DB_REPLICA_MAX_LAG_SECONDS"]))
        self.settings_params = {"statement_timeout": int(config["DB_STATEMENT_TIMEOUT_MS"]),
                                "idle_timeout": int(config["DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"])}
        self._settings_sql: str | None = None

    def _open_replicas(self) -> ReplicaSet:
        def open_pool(url: str) -> ConnectionPool:
            return ConnectionPool(url, **dict(pool_kwargs(self.config), min_size=0), name="replica")

        return ReplicaSet(self.config["DATABASE_URL"], self.replica_urls, open_pool,
                          self.config["DB_REPLICA_MAX_LAG_SECONDS"], self.config, primary_down=self.primary_down)

    def primary_down(self) -> bool:
        """Tell whether this process knows the primary to be down (its breaker is open)."""
        pool = self._pool.peek()
        return pool is not None and pool.breaker is not None and pool.breaker.is_open

    def read_only(self) -> bool:
        """Tell whether the service is read-only here: the primary is down and a standby is in rotation."""
        replicas = self._replicas.peek()
        return self.primary_down() and replicas is not None and replicas.choose() is not None

    def listen_for_writes(self, hears: Callable[[], bool]) -> None:
        """Register who delivers every instance's write notices: `hears()` tells whether it receives them now.

        With replicas, a user's reads leave the primary only while a notice of their writes cannot be
        missed: until a source is registered, or while it does not hear, every read stays on the primary.
        The source hands each notice to `heard_write`.
        """
        self._hears_writes = hears

    def heard_write(self, payload: str) -> None:
        """Note a write notice (its payload: the writing user's id): that user's reads wait for a replica past it."""
        self.writers.mark(int(payload))

    def replicas(self) -> ReplicaSet | None:
        """Return this process's replica set (its monitor starts on first use), or None without replicas."""
        return self._replicas.get() if self.replica_urls else None

    def settings_sql(self, cur: Cursor) -> str:
        """Return the per-transaction settings as SQL text with its values rendered (once per app)."""
        if self._settings_sql is None:
            self._settings_sql = cur.mogrify(queries.set_transaction_settings, self.settings_params).decode()
        return self._settings_sql

    def first_statements(self, cur: Cursor) -> str:
        """Return what a transaction sends before its first statement: settings, and a write notice."""
        text = self.settings_sql(cur) + ";"
        writer = caller.writing_user()
        if self.replica_urls and writer is not None:
            text += "\n" + cur.mogrify(queries.notify_write, {"user_id": str(writer)}).decode() + ";"
        return text

    def wrote(self) -> None:
        """Note after a commit that this request's user wrote (their reads wait for a replica past it)."""
        writer = caller.writing_user()
        if self.replica_urls and writer is not None:
            self.writers.mark(writer)

    def choose_replica(self) -> Replica | None:
        """Return a replica for this request's reads, or None when the primary must answer."""
        replicas = self.replicas()
        if replicas is None:
            return None
        if self.primary_down():  # nothing newer can commit meanwhile: any standby in rotation is current
            return replicas.choose()
        if not self._hears_writes():  # write notices may be missed: stay on the primary
            return None
        request = caller.current()
        fresh_after = request.fresh_after
        if request.user_id is not None:
            fresh_after = max(fresh_after, self.writers.since(request.user_id))
        return replicas.choose(fresh_after)

    def pool(self) -> ConnectionPool:
        """Return this process's pool, opening it on first use (a forked child opens its own)."""
        return self._pool.get()

    def stats(self) -> dict[str, Any] | None:
        """Return this process's pool statistics, or None when it has not opened its pool."""
        pool = self._pool.peek()
        return pool.stats() if pool is not None else None

    def databases(self) -> list[dict[str, Any]]:
        """Return the primary and each replica: name, role, state, lag and pool statistics (never an address)."""
        replicas = self._replicas.peek()
        pool = self._pool.peek()
        down = self.primary_down() or (replicas is not None and replicas.primary_error)
        primary = {"name": "primary", "role": "primary", "lag_s": 0.0, "pool": self.stats(),
                   "state": "down" if down else "up",
                   "breaker": pool.breaker.stats() if pool is not None and pool.breaker is not None else None}
        return [primary] + (replicas.stats() if replicas is not None else [])

    def close(self) -> None:
        """Close this process's pool and replicas (a later use opens new ones)."""
        self._replicas.close()
        self._pool.close()

