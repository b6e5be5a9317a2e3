"""Where a read goes: the cursor that sends settings with the first statement, who wrote lately, and
the read cursor that uses a replica and moves to the primary when the replica fails mid-request."""
import threading
import time
from contextlib import ExitStack

import psycopg2
import psycopg2.extras
from psycopg2 import extensions as ext

from .errors import PoolError

# A replica that answers none of these is out; the read goes again, on the primary. A statement
# timeout (QueryCanceledError) is the query's own fault and is not tried twice.
REPLICA_FAILURES = (psycopg2.OperationalError, psycopg2.InterfaceError, PoolError)
REPLICA_ACQUIRE_SECONDS = 0.5


class FirstStatementCursor(psycopg2.extras.RealDictCursor):
    """A dict cursor that sends `prefix` (the transaction's settings) in the same round trip as its first statement."""

    prefix = None

    def execute(self, query, vars=None):
        if self.prefix:
            prefix, self.prefix = self.prefix, None
            if not isinstance(query, str):  # a psycopg2.sql composition
                query = query.as_string(self.connection)
            # The prefix holds no %: it was rendered with its values already, so binding is unaffected.
            query = prefix + "\n" + query
        return super().execute(query, vars)


class RecentWriters:
    """Which users wrote lately and when this process learned it: their reads wait for a replica past it."""

    def __init__(self, keep_seconds):
        self.keep_seconds = keep_seconds
        self._at = {}
        self._lock = threading.Lock()
        self.live = lambda: False  # set by whoever delivers every instance's write notices (the cache listener)

    def mark(self, user_id, at=None):
        """Record that `user_id` wrote (now, or at monotonic time `at`)."""
        at = time.monotonic() if at is None else at
        with self._lock:
            if len(self._at) > 10_000:
                horizon = at - self.keep_seconds
                self._at = {user: when for user, when in self._at.items() if when > horizon}
            self._at[user_id] = max(at, self._at.get(user_id, 0.0))

    def since(self, user_id):
        """Return when `user_id` last wrote as far as this process knows (0.0: not lately)."""
        with self._lock:
            at = self._at.get(user_id, 0.0)
        return at if time.monotonic() - at < self.keep_seconds else 0.0


class ReadCursor:
    """A read-only transaction on a replica that moves to the primary when the replica fails.

    Every statement is a read, so running the failed one again on the primary is safe; the statements
    after it run there too.
    """

    def __init__(self, replicas, replica, primary_cursor, prefix_for):
        self._replicas, self._replica, self._primary_cursor = replicas, replica, primary_cursor
        self._prefix_for = prefix_for
        self._stack, self._conn, self._cur = ExitStack(), None, None

    def __enter__(self):
        try:
            self._conn = self._replica.pool.getconn(timeout=REPLICA_ACQUIRE_SECONDS)
            self._cur = self._conn.cursor(cursor_factory=FirstStatementCursor)
            self._cur.prefix = self._prefix_for(self._cur)
        except REPLICA_FAILURES as exc:
            self._fall_back(exc)
        return self

    def execute(self, query, vars=None):
        """Run `query` on the replica, or on the primary once the replica failed."""
        if self._replica is not None:
            try:
                return self._cur.execute(query, vars)
            except psycopg2.extensions.QueryCanceledError:
                raise
            except REPLICA_FAILURES as exc:
                self._fall_back(exc)
        return self._cur.execute(query, vars)

    def _fall_back(self, exc):
        self._replicas.failed(self._replica, exc)
        self._release(broken=True)
        self._replica = None
        self._cur = self._stack.enter_context(self._primary_cursor())

    def _release(self, broken=False):
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        if not broken and conn.info.transaction_status == ext.TRANSACTION_STATUS_INTRANS:
            try:
                conn.rollback()  # nothing was written: ending it either way is the same
            except psycopg2.Error:
                broken = True
        self._replica.pool.putconn(conn, close=broken)

    def __getattr__(self, name):  # fetchone, fetchall, rowcount, description ...
        return getattr(self._cur, name)

    def __iter__(self):
        return iter(self._cur)

    def __exit__(self, *exc_info):
        if self._replica is not None:
            self._release(broken=exc_info[0] is not None and issubclass(exc_info[0], REPLICA_FAILURES))
        return self._stack.__exit__(*exc_info)
