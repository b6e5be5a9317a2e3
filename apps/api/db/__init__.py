"""The application's database: one pool per process owned by the app, transactions, named SQL.

`init_app(app)` keeps a `Database` in `app.extensions["db"]`. Its pool opens lazily in the process
that first asks for it, so after gunicorn forks; gunicorn's `post_worker_init` warms it, and
`worker_exit` and the test fixtures close it through the app (`close(app)`). Only this package
imports psycopg2.pool; routes borrow connections through `connection()` and `cursor()`, and read
through `read_cursor()`, which uses a replica (DATABASE_REPLICA_URLS) when one is current enough.
Which replica is current enough for a request depends on who it serves and what it must see: the
web layer says so through the request context (runtime/context.py, read by caller.py) and `fresh_after()`;
this package never reads the request. Every connection is opened by `connect()` (connect.py).

Nothing here keeps session state on DATABASE_URL, so it may be PgBouncer in transaction mode: the
statement, idle-in-transaction and time zone settings are sent with each transaction's first
statement (SET LOCAL). DATABASE_DIRECT_URL (default DATABASE_URL) is for LISTEN, migrations and
session advisory locks.
"""
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar, cast

from flask import Flask, current_app
from psycopg2.extensions import connection as Connection
from psycopg2.extras import RealDictCursor as Cursor
from psycopg2.extras import RealDictRow as Row

from ..runtime.timings import add_db_time
from .caller import current as current_caller
from .caller import fresh_after
from .connect import connect
from .database import Database, direct_url, pool_kwargs, replica_urls
from .errors import (
    CONNECTION_ERRORS,
    PoolClosed,
    PoolError,
    PoolForkError,
    PoolTimeout,
    PrimaryUnavailable,
    TooManyRequests,
    unreachable,
)
from .pool import ConnectionPool
from .queries import Queries
from .replicas import Replica
from .routing import (
    FirstStatementCursor,
    FirstStatementTupleCursor,
    MovingCursor,
    connection_lost_at_start,
    primary_failed_at_start,
    replica_cursor,
    replica_failed,
)

__all__ = ["init_app", "get_pool", "pool_stats", "close", "connection", "cursor", "read_cursor", "transaction",
           "stream", "Queries", "one_row", "Cursor", "Row", "Database", "database", "direct_url", "replica_urls",
           "pool_kwargs", "connect", "fresh_after", "primary_down", "read_only", "has_replicas", "PoolError",
           "PoolTimeout", "TooManyRequests", "PoolClosed", "PoolForkError", "PrimaryUnavailable", "CONNECTION_ERRORS",
           "unreachable"]

EXTENSION = "db"
queries = Queries("db.sql")


def init_app(app: Flask) -> None:
    """Give `app` its database (the pool itself opens on first use)."""
    app.extensions[EXTENSION] = Database(app.config)


def database(app: Flask | None = None) -> Database:
    """Return the Database of `app` (default: the current app)."""
    found: Database = (app or current_app).extensions[EXTENSION]
    return found


_database = database


def get_pool(app: Flask | None = None) -> ConnectionPool:
    """Return this process's pool of `app` (default: the current app), opening it on first use."""
    return _database(app).pool()


def pool_stats(app: Flask | None = None) -> dict[str, Any] | None:
    """Return the statistics of `app`'s pool in this process, or None when it is not open."""
    return _database(app).stats()


def close(app: Flask) -> None:
    """Close `app`'s pool in this process."""
    _database(app).close()


def primary_down(app: Flask | None = None) -> bool:
    """Tell whether this process knows the primary of `app` to be down (requests that need it get 503 at once)."""
    return _database(app).primary_down()


def has_replicas(app: Flask | None = None) -> bool:
    """Tell whether `app` reads from standbys (DATABASE_REPLICA_URLS)."""
    return bool(_database(app).replica_urls)


def read_only(app: Flask | None = None) -> bool:
    """Tell whether `app` serves read-only here: the primary is down and a standby is in rotation."""
    return _database(app).read_only()


RowType = TypeVar("RowType", covariant=True)


class _FetchesRows(Protocol[RowType]):
    def fetchone(self) -> RowType | None: ...


def one_row(cur: _FetchesRows[RowType]) -> RowType:
    """Return the next row of a statement that always returns one (INSERT ... RETURNING, an aggregate)."""
    row = cur.fetchone()
    if row is None:
        raise AssertionError("the statement returned no row")
    return row


@contextmanager
def connection() -> Iterator[Connection]:
    """Borrow a pooled connection for one transaction on the primary: commit on success, roll back on error.

    The transaction's settings cost one round trip here (`cursor()` sends them with its first statement);
    a connection found dead by it is replaced by a fresh one.
    """
    def plain() -> AbstractContextManager[Any]:
        return _primary_cursor(FirstStatementTupleCursor)

    with MovingCursor(plain, plain, connection_lost_at_start) as cur:
        cur.execute(queries.ping)  # the settings go with it
        conn: Connection = cur.connection
        yield conn
    _database().wrote()


@contextmanager
def _borrow() -> Iterator[Connection]:
    """Borrow a connection of the primary for one transaction, counting the time spent in the database."""
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
def _unpooled_connection() -> Iterator[Connection]:
    """Open a connection for one transaction and close it after (DB_POOL_MODE=none: the benchmark's twin)."""
    conn = connect(current_app.config["DATABASE_URL"], "pool", current_app.config)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@contextmanager
def _primary_cursor(cursor_factory: type[Any] = FirstStatementCursor) -> Iterator[Any]:
    """Open a (dict) cursor in one transaction on the primary; the settings go with its first statement."""
    with _borrow() as conn:
        with conn.cursor(cursor_factory=cursor_factory) as cur:
            cur.prefix = _database().first_statements(cur)
            yield cur


# The cursor of an open `transaction()`: every cursor() and read_cursor() inside it joins it.
_joined: ContextVar[Any] = ContextVar("printshop_joined_transaction", default=None)


@contextmanager
def transaction() -> Iterator[Any]:
    """Open one transaction on the primary that every `cursor()` and `read_cursor()` inside it joins.

    For a write that must commit with something its view does not know of (an idempotency key): the view's
    own `with cursor()` then neither borrows a connection nor commits; the outermost block does.
    """
    with cursor() as cur:
        token = _joined.set(cur)
        try:
            yield cur
        finally:
            _joined.reset(token)


@contextmanager
def cursor(read_only: bool = False) -> Iterator[Cursor]:
    """Open a dict cursor inside one transaction: on the primary, or (`read_only`) as `read_cursor()`.

    A pooled connection found dead at the first statement (PgBouncer or PostgreSQL restarted since it
    was last used) is replaced by a fresh one and the statement runs there. While the primary is down,
    a request that does not write (GET, HEAD, OPTIONS) reads on a standby instead: read-only service.
    Inside `transaction()` it is that transaction's cursor.
    """
    joined = _joined.get()
    if joined is not None:
        yield joined
        return
    database = _database()
    if read_only or (not current_caller().writes and database.read_only()):
        with read_cursor() as cur:
            yield cur
        return
    replicas = database.replicas() if not current_caller().writes else None
    standby = replicas.choose() if replicas is not None else None
    if standby is not None:
        # A read on the primary whose connection fails before its first statement (the primary just went
        # away, its breaker not open yet) runs on a standby in rotation instead: reads never fail meanwhile.
        with MovingCursor(_primary_cursor, lambda: _fresh_primary_or(standby, database), primary_failed_at_start,
                          lambda exc: None) as cur:
            yield _as_cursor(cur)
        return
    with MovingCursor(_primary_cursor, _primary_cursor, connection_lost_at_start) as cur:
        yield _as_cursor(cur)
    _database().wrote()


@contextmanager
def read_cursor() -> Iterator[Cursor]:
    """Open a dict cursor for reads only: on a replica that is current enough for this user, else the primary.

    A replica that fails mid-request leaves rotation and the read runs again on the primary; a read
    whose primary fails before its first statement runs on a standby in rotation instead.
    Inside `transaction()` it is that transaction's cursor (a write reads what it wrote).
    """
    joined = _joined.get()
    if joined is not None:
        yield joined
        return
    database = _database()
    replica = database.choose_replica()
    if replica is None:
        replica_set = database.replicas()
        standby = replica_set.choose() if replica_set is not None else None
        if standby is None:
            with cursor() as cur:
                yield cur
            return
        with MovingCursor(_primary_cursor, lambda: _replica_cursor(standby, database), primary_failed_at_start,
                          lambda exc: None) as cur:
            yield _as_cursor(cur)
        return
    replicas = database.replicas()
    assert replicas is not None  # a replica was chosen from them
    with MovingCursor(lambda: _replica_cursor(replica, database), _primary_cursor, replica_failed,
                      lambda exc: replicas.failed(replica, exc)) as cur:
        yield _as_cursor(cur)


def _as_cursor(moving: MovingCursor) -> Cursor:
    """Return `moving` as the dict cursor it stands in for (it hands every other call to its current cursor)."""
    return cast(Cursor, moving)


def stream(statement: Any, params: dict[str, Any], batch_rows: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Yield the rows (tuples) of one read from a server-side cursor, fetched `batch_rows` at a time.

    Memory stays at one batch whatever the result's size (a CSV export of a million jobs). The read runs
    where `read_cursor()` would, in one transaction held until the last row (or the consumer stops).
    """
    with read_cursor() as cur:
        cur.execute(queries.ping)  # the transaction's settings go with the first statement
        with cur.connection.cursor(name="printshop_stream") as rows:
            rows.itersize = batch_rows
            rows.execute(statement, params)
            yield from rows


@contextmanager
def _fresh_primary_or(standby: Replica, database: Database) -> Iterator[Any]:
    """Open a cursor on a fresh primary connection (a pooled one was found dead); when the primary itself is out
    of reach, on `standby` instead."""
    with ExitStack() as stack:
        try:
            cur = stack.enter_context(_primary_cursor())
        except CONNECTION_ERRORS as exc:
            if not unreachable(exc):
                raise
            cur = stack.enter_context(_replica_cursor(standby, database))
        yield cur


@contextmanager
def _replica_cursor(replica: Replica, database: Database) -> Iterator[Any]:
    started = time.perf_counter()
    try:
        with replica_cursor(replica, lambda cur: database.settings_sql(cur) + ";") as cur:
            yield cur
    finally:
        add_db_time((time.perf_counter() - started) * 1000)
