"""The registry of a pool's open connections: psycopg2's ThreadedConnectionPool, through its public methods only.

The only module that imports psycopg2.pool. pool.py opens connections itself, outside every lock, and
registers them here; the records it keeps beside the registry (idle list, ages, borrowers, statistics) are
its own.
"""
from typing import Any

from psycopg2 import pool as pg_pool
from psycopg2.extensions import connection as Connection


class _OpenedConnectionFactory:
    """The registry's connection factory: hands over the connection we opened outside every lock.

    psycopg2's pool registers a connection by "connecting" (psycopg2.connect with its connection_factory);
    this factory makes that step return the connection already opened by db/connect.py.
    """

    def __init__(self) -> None:
        self.conn: Connection | None = None

    def __call__(self, dsn: str, *args: Any, **kwargs: Any) -> Connection:
        conn, self.conn = self.conn, None
        if conn is None:
            raise AssertionError("ConnectionPool opens connections itself, outside the lock")
        return conn


class ConnectionRegistry:
    """psycopg2's ThreadedConnectionPool as the registry of open connections, through its public methods only.

    Every connection we open is registered with getconn() (bounded by maxconn) until it is closed with
    putconn(close=True); closeall() ends them all. Which ones are idle, their ages and their borrowers
    are the ConnectionPool's records (pool.py), beside it.
    """

    def __init__(self, max_size: int) -> None:
        self._factory = _OpenedConnectionFactory()
        self._threaded = pg_pool.ThreadedConnectionPool(0, max_size, connection_factory=self._factory)

    def register(self, conn: Connection) -> None:
        """Register a connection opened outside the lock (the caller holds the ConnectionPool's lock)."""
        self._factory.conn = conn
        self._threaded.getconn()

    def close(self, conn: Connection) -> None:
        """Close a connection and strike it from the registry."""
        self._threaded.putconn(conn, close=True)

    def close_all(self) -> None:
        """Close every registered connection, lent out or idle."""
        self._threaded.closeall()
