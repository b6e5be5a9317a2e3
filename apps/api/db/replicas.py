"""Hot-standby replicas: which are in rotation, how far behind each is, and which may serve a read.

One monitor thread per process samples the primary's WAL position and then each replica's replay
position every CHECK_SECONDS. A replica's `caught_up_at` is the time of the newest primary sample it
has replayed: its lag is how long ago that was, and a read that must see everything committed before
time T may go to it only when `caught_up_at >= T`. A replica leaves rotation when its last good check
is older than STALE_SECONDS, when it lags beyond the setting, or when a request saw it fail; it
returns at its next good check.
"""
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import psycopg2

from ..runtime.background import Background
from .base import HealthProbe
from .connect import Settings
from .pool import ConnectionPool
from .queries import Queries

log = logging.getLogger(__name__)
queries = Queries("db.sql")

CHECK_SECONDS = 0.2
STALE_SECONDS = 0.8      # no good check for this long: out of rotation (so within 1 s of dying)
HISTORY_SECONDS = 120.0  # primary positions kept to date a replica's replay position


def _row(row: tuple[Any, ...] | None) -> tuple[Any, ...]:
    if row is None:
        raise psycopg2.OperationalError("the position query returned no row")
    return row


class Replica:
    """One standby: its pool, and what the monitor last learned about it."""

    def __init__(self, name: str, url: str, pool: ConnectionPool, watch: HealthProbe) -> None:
        self.name, self.url, self.pool, self._watch = name, url, pool, watch
        self.in_recovery: bool | None = None
        self.position: Any = None  # the replayed WAL position (pg_lsn as text)
        self.last_ok = 0.0          # monotonic time of the last good check (0: never, or failed since)
        self.caught_up_at = 0.0     # time of the newest primary sample this replica has replayed
        self.lag_s: float | None = None
        self.last_error: str | None = None
        self.failures = 0

    def in_rotation(self, now: float, max_lag: float) -> bool:
        """Tell whether reads may go here: checked lately, a standby, and not lagging."""
        return (self.in_recovery is True and now - self.last_ok <= STALE_SECONDS
                and self.lag_s is not None and self.lag_s <= max_lag)

    def state(self, now: float, max_lag: float) -> str:
        """Return "in_rotation", "lagging", "promoted" (it answers but is a primary now: out of rotation, its
        reads go to the primary, which after a failover is this same server) or "down"."""
        if self.in_rotation(now, max_lag):
            return "in_rotation"
        if now - self.last_ok <= STALE_SECONDS and self.in_recovery:
            return "lagging"
        if now - self.last_ok <= STALE_SECONDS and self.in_recovery is False:
            return "promoted"
        return "down"


class ReplicaSet:
    """The replicas of one process, a thread that keeps their state current, and the choice of one."""

    def __init__(self, primary_dsn: str, replica_urls: Sequence[str], open_pool: Callable[[str], ConnectionPool],
                 max_lag: float, config: Settings = None, primary_down: Callable[[], bool] = lambda: False) -> None:
        self.max_lag, self._primary_down = max_lag, primary_down
        self._primary = HealthProbe(primary_dsn, "monitor", config)
        self.replicas = [Replica(f"replica{index}", url, open_pool(url), HealthProbe(url, "replica-monitor", config))
                         for index, url in enumerate(replica_urls, 1)]
        self._history: deque[tuple[float, Any]] = deque()  # (monotonic time before asking, primary position)
        self.primary_error: str | None = None
        self._turn = itertools.count()
        # Without the monitor every replica leaves rotation: Background logs a failed round and goes on.
        self._monitor = Background("replica-monitor", self.check, CHECK_SECONDS).start()

    def choose(self, fresh_after: float = 0.0) -> Replica | None:
        """Return a replica in rotation that has replayed everything committed before `fresh_after`, or None."""
        now = time.monotonic()
        ready = [replica for replica in self.replicas
                 if replica.in_rotation(now, self.max_lag) and replica.caught_up_at >= fresh_after]
        if not ready and self._primary_down():
            # A standby promoted while the primary is down holds everything the old primary acknowledged and
            # takes every write from now on: it serves the reads until the pool's breaker finds it (through
            # DATABASE_URL's multi-host list) as the primary. Without this, reads fail in between.
            ready = [replica for replica in self.replicas
                     if replica.in_recovery is False and now - replica.last_ok <= STALE_SECONDS]
        return ready[next(self._turn) % len(ready)] if ready else None

    def failed(self, replica: Replica, exc: BaseException) -> None:
        """Take `replica` out of rotation until its next good check (a request saw it fail)."""
        replica.last_ok = 0.0
        replica.failures += 1
        replica.last_error = type(exc).__name__
        log.warning("replica %s failed a read (%s); reads go elsewhere until it answers again",
                    replica.name, replica.last_error)

    def check(self) -> None:
        """Sample the primary's position, then every replica's; update their lag and rotation."""
        asked_at = time.monotonic()
        try:
            if self._primary_down():  # its breaker's probe watches it: don't wait on a connect each round
                raise psycopg2.OperationalError("the primary is down")
            (primary_position,) = _row(self._primary.run(queries.get_primary_position, STALE_SECONDS))
            self._history.append((asked_at, primary_position))
            self.primary_error = None
        except psycopg2.Error as exc:
            self.primary_error = type(exc).__name__
        while self._history and self._history[0][0] < asked_at - HISTORY_SECONDS:
            self._history.popleft()
        for replica in self.replicas:
            try:
                replica.in_recovery, replica.position = _row(replica._watch.run(queries.get_replica_position,
                                                                                STALE_SECONDS))
            except psycopg2.Error as exc:
                replica.last_error = type(exc).__name__
                continue
            replayed = [at for at, position in self._history if position <= replica.position]
            if replayed:
                replica.caught_up_at = max(replica.caught_up_at, replayed[-1])
            newest = self._history[-1][1] if self._history else None
            behind = newest is None or replica.position < newest
            if self.primary_error is None or replica.lag_s is None:
                replica.lag_s = round(time.monotonic() - replica.caught_up_at, 3) if behind else 0.0
            # else: the primary is away and can commit nothing; its last known lag stands (no growing
            # lag pushes the standby that now serves every read out of rotation).
            replica.last_ok, replica.last_error = time.monotonic(), None

    def stats(self) -> list[dict[str, Any]]:
        """Return each replica's name, state, lag, position and pool statistics (never its address)."""
        now = time.monotonic()
        return [{"name": replica.name, "role": "replica", "state": replica.state(now, self.max_lag),
                 "lag_s": replica.lag_s, "position": replica.position, "failures": replica.failures,
                 "last_error": replica.last_error, "pool": replica.pool.stats()} for replica in self.replicas]

    def close(self) -> None:
        """Stop the monitor and close every replica's pool and connections."""
        self._monitor.stop(2)
        self._primary.close()
        for replica in self.replicas:
            replica._watch.close()
            replica.pool.close()
