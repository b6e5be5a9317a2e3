"""Where a transaction runs: the cursor that sends settings with the first statement, who wrote lately,
and the cursor that moves to another connection (a failed replica's reads to the primary, a transaction
whose pooled connection was dead from the start to a fresh one)."""
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.extras
from psycopg2 import extensions as ext

from .errors import PoolError, PrimaryUnavailable

if TYPE_CHECKING:
    from .replicas import Replica

# Failures of a connection or of getting one; a replica that fails so is out and the read goes again,
# on the primary. A statement timeout (QueryCanceledError) is the query's own fault: never tried twice.
CONNECTION_FAILURES = (psycopg2.OperationalError, psycopg2.InterfaceError, PoolError)
REPLICA_ACQUIRE_SECONDS = 0.5
# Whether a failure moves the transaction: (exception, statements done, connection closed).
MayMove = Callable[[BaseException, int, bool], bool]


class _FirstStatement:
    """Send `prefix` (the transaction's settings) in the same round trip as the cursor's first statement."""

    prefix: str | None = None
    connection: ext.connection

    def execute(self, query: Any, vars: Any = None) -> None:
        if self.prefix:
            prefix, self.prefix = self.prefix, None
            if not isinstance(query, str):  # a psycopg2.sql composition
                query = query.as_string(self.connection)
            # The prefix holds no %: it was rendered with its values already, so binding is unaffected.
            query = prefix + "\n" + query
        super().execute(query, vars)  # type: ignore[misc]  # the cursor class it is mixed into


class FirstStatementCursor(_FirstStatement, psycopg2.extras.RealDictCursor):
    """A dict cursor that sends the transaction's settings with its first statement."""


class FirstStatementTupleCursor(_FirstStatement, ext.cursor):
    """A plain cursor that sends the transaction's settings with its first statement."""


class RecentWriters:
    """Which users wrote lately and when this process learned it: their reads wait for a replica past it."""

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self._at: dict[int, float] = {}
        self._lock = threading.Lock()

    def mark(self, user_id: int, at: float | None = None) -> None:
        """Record that `user_id` wrote (now, or at monotonic time `at`)."""
        at = time.monotonic() if at is None else at
        with self._lock:
            if len(self._at) > 10_000:
                horizon = at - self.keep_seconds
                self._at = {user: when for user, when in self._at.items() if when > horizon}
            self._at[user_id] = max(at, self._at.get(user_id, 0.0))

    def since(self, user_id: int) -> float:
        """Return when `user_id` last wrote as far as this process knows (0.0: not lately)."""
        with self._lock:
            at = self._at.get(user_id, 0.0)
        return at if time.monotonic() - at < self.keep_seconds else 0.0


class MovingCursor:
    """A cursor whose transaction moves to a second connection when the first one fails in a way
    `may_move(exc, statements_done, connection_closed)` allows; the failed statement then runs again there.

    Two uses: a read on a replica that fails goes to the primary (every statement is a read, so running it
    again is safe), and a transaction whose pooled connection turns out dead at its first statement
    (PgBouncer or PostgreSQL restarted) starts over on a fresh one (nothing ran in it, nothing committed).
    """

    def __init__(self, first: Callable[[], AbstractContextManager[Any]],
                 then: Callable[[], AbstractContextManager[Any]], may_move: MayMove,
                 on_move: Callable[[BaseException], object] = lambda exc: None) -> None:
        self._open, self._then, self._may_move, self._on_move = first, then, may_move, on_move
        self._stack, self._done, self._moved = ExitStack(), 0, False
        self._cur: Any = None

    def __enter__(self) -> "MovingCursor":
        try:
            self._cur = self._stack.enter_context(self._open())
        except CONNECTION_FAILURES as exc:
            if not self._may_move(exc, 0, True):
                raise
            self._move(exc)
        return self

    def execute(self, query: Any, vars: Any = None) -> Any:
        """Run `query`; on a failure that allows it, move to the second connection and run it there."""
        try:
            result = self._cur.execute(query, vars)
        except CONNECTION_FAILURES as exc:
            closed = getattr(getattr(self._cur, "connection", None), "closed", 1) != 0
            if self._moved or not self._may_move(exc, self._done, closed):
                raise
            self._move(exc)
            result = self._cur.execute(query, vars)
        self._done += 1
        return result

    def _move(self, exc: BaseException) -> None:
        self._on_move(exc)
        try:  # give the failed connection back as broken (its rollback fails: it is gone)
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
        except psycopg2.Error:
            pass
        self._stack, self._moved = ExitStack(), True
        self._cur = self._stack.enter_context(self._then())

    def __getattr__(self, name: str) -> Any:  # fetchone, fetchall, rowcount, description ...
        return getattr(self._cur, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cur)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> bool | None:
        return self._stack.__exit__(exc_type, exc, traceback)


def replica_failed(exc: BaseException, statements_done: int, closed: bool) -> bool:
    """Tell whether a replica's failure moves the read to the primary (not a statement timeout: the
    query's own fault, and not worth running twice)."""
    return not isinstance(exc, ext.QueryCanceledError)


def primary_failed_at_start(exc: BaseException, statements_done: int, closed: bool) -> bool:
    """Tell whether a read may go to a standby: the primary is down, or its connection failed before
    any statement ran (not a statement timeout, not a busy pool)."""
    if statements_done or isinstance(exc, ext.QueryCanceledError):
        return False
    return isinstance(exc, PrimaryUnavailable) or (closed and not isinstance(exc, PoolError))


def connection_lost_at_start(exc: BaseException, statements_done: int, closed: bool) -> bool:
    """Tell whether a transaction may start over: its connection is gone and nothing ran in it yet."""
    return statements_done == 0 and closed and not isinstance(exc, PoolError)


@contextmanager
def replica_cursor(replica: "Replica", prefix_for: Callable[[ext.cursor], str]) -> Iterator[ext.cursor]:
    """Open a dict cursor in one transaction on `replica` (given back rolled back: it only read)."""
    conn = replica.pool.getconn(timeout=REPLICA_ACQUIRE_SECONDS)
    try:
        with conn.cursor(cursor_factory=FirstStatementCursor) as cur:
            cur.prefix = prefix_for(cur)
            yield cur
    finally:
        replica.pool.putconn(conn, close=conn.closed != 0)
