"""Every connection this service opens, and the only caller of psycopg2.connect in apps/.

Each gets the same connect timeout, TCP keepalives and tcp_user_timeout (a server that vanished without
closing the socket is noticed: sent data fails after the connect timeout, an idle connection after the
keepalives), and an application_name that names its role and process ("printshop:pool:4242"), so
pg_stat_activity tells the pool from the listener, the scheduler or a migration.
"""
import os
import select
import time
from collections.abc import Mapping
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2.extensions import connection as Connection

from ..config import Config
from .queries import Queries

queries = Queries("db.sql")
APPLICATION = "printshop"
# An app's config mapping (app.config), or None for Config's defaults.
Settings = Mapping[str, Any] | None


def _setting(config: Settings, name: str) -> Any:
    """Return setting `name` of `config` (an app's config mapping), or Config's default without one."""
    return getattr(Config, name) if config is None else config[name]


def connect_kwargs(role: str, config: Settings = None) -> dict[str, Any]:
    """Return psycopg2.connect's keyword arguments for a connection of `role`."""
    timeout = int(_setting(config, "DB_CONNECT_TIMEOUT"))
    return dict(
        connect_timeout=timeout,
        tcp_user_timeout=timeout * 1000,
        keepalives=1,
        keepalives_idle=int(_setting(config, "DB_KEEPALIVES_IDLE")),
        keepalives_interval=int(_setting(config, "DB_KEEPALIVES_INTERVAL")),
        keepalives_count=int(_setting(config, "DB_KEEPALIVES_COUNT")),
        # No `options`: PgBouncer refuses that startup parameter. Timeouts go per transaction or by SET.
        application_name=f"{APPLICATION}:{role}:{os.getpid()}",
    )


def connect(dsn: str, role: str, config: Settings = None, *, autocommit: bool = False,
            session_timeouts: bool = False, **overrides: Any) -> Connection:
    """Open a connection of `role` to `dsn` with the service's settings (`overrides` win).

    `session_timeouts` sets the statement and idle-in-transaction timeouts for the whole session: only
    on a direct connection (DATABASE_DIRECT_URL), never through a transaction pooler.
    """
    conn: Connection = psycopg2.connect(dsn, **{**connect_kwargs(role, config), **overrides})
    try:
        conn.autocommit = autocommit or session_timeouts
        if session_timeouts:
            with conn.cursor() as cur:
                cur.execute(queries.set_session_timeouts, {
                    "statement_timeout": int(_setting(config, "DB_STATEMENT_TIMEOUT_MS")),
                    "idle_timeout": int(_setting(config, "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"))})
            conn.autocommit = autocommit
    except BaseException:
        conn.close()
        raise
    return conn



def answer_once(dsn: str, role: str, config: Settings = None, timeout: float | None = None,
                **overrides: Any) -> None:
    """Open a connection, run SELECT 1 and close it, all within `timeout` seconds (default: the connect
    timeout); raise psycopg2.OperationalError when the server does not answer in time.

    Asynchronous under the hood, so a pooler that holds the query while it cannot reach its server
    (PgBouncer waits up to query_wait_timeout) cannot hold the caller longer than `timeout`.
    """
    timeout = timeout or int(_setting(config, "DB_CONNECT_TIMEOUT"))
    deadline = time.monotonic() + timeout
    conn = connect_until(dsn, role, deadline, config, **overrides)
    try:
        cur = conn.cursor()
        cur.execute(queries.ping)
        wait_until(conn, deadline)
    finally:
        conn.close()


def connect_until(dsn: str, role: str, deadline: float, config: Settings = None, **overrides: Any) -> Connection:
    """Open an asynchronous (autocommit) connection of `role`, raising when it is not up by `deadline`;
    drive each statement on it with wait_until()."""
    conn: Connection = psycopg2.connect(dsn, async_=1, **{**connect_kwargs(role, config), **overrides})
    try:
        wait_until(conn, deadline)
    except BaseException:
        conn.close()
        raise
    return conn


def wait_until(conn: Connection, deadline: float) -> None:
    """Drive an asynchronous connection until its current operation is done, or raise at `deadline`."""
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise psycopg2.OperationalError("the database did not answer in time")
        if state == psycopg2.extensions.POLL_READ:
            select.select([conn.fileno()], [], [], remaining)
        else:
            select.select([], [conn.fileno()], [], remaining)
