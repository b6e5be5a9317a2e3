"""The book of a pool's open connections: psycopg2's ThreadedConnectionPool, through its public methods only.

The only module that imports psycopg2.pool. pool.py opens connections itself, outside every lock, and
books them here; the records it keeps beside the book (idle list, ages, borrowers, statistics) are its own.
"""
from psycopg2 import pool as pg_pool


class _Handoff:
    """The connection factory of the book: hands over the connection we opened outside every lock.

    psycopg2's pool books a connection by "connecting" (psycopg2.connect with its connection_factory);
    this factory makes that step return the connection already opened by db/connect.py.
    """

    def __init__(self):
        self.conn = None

    def __call__(self, dsn):
        conn, self.conn = self.conn, None
        if conn is None:
            raise AssertionError("ConnectionPool opens connections itself, outside the lock")
        return conn


class Book:
    """psycopg2's ThreadedConnectionPool as the book of open connections, through its public methods only.

    Every connection we open is booked with getconn() (bounded by maxconn) until it is closed with
    putconn(close=True); closeall() ends them all. Which ones are idle, their ages and their borrowers
    are the ConnectionPool's records (pool.py), beside it.
    """

    def __init__(self, max_size):
        self._handoff = _Handoff()
        self._threaded = pg_pool.ThreadedConnectionPool(0, max_size, connection_factory=self._handoff)

    def enter(self, conn):
        """Book a connection opened outside the lock (the caller holds the ConnectionPool's lock)."""
        self._handoff.conn = conn
        return self._threaded.getconn()

    def leave(self, conn):
        """Close a connection and strike it from the book."""
        self._threaded.putconn(conn, close=True)

    def close_all(self):
        """Close every booked connection, lent out or idle."""
        self._threaded.closeall()
