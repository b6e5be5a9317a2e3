"""Overdue jobs: tell their assignees and the managers once, with one scheduler per database.

Every gunicorn worker of every instance runs a scheduler thread (app-owned, see init_app); the one holding a
PostgreSQL session advisory lock (on its own direct connection to DATABASE_DIRECT_URL, see db.direct_url,
since a transaction pooler cannot hold session locks) sweeps every OVERDUE_CHECK_SECONDS, the others only
retry for the lock. A worker that dies closes its connection, and the lock passes to the next one that asks.
The sweep records each (job, due date) it announces in overdue_notices in the same transaction, so even two
sweeps at once (a `flask notify-overdue` from cron beside the schedulers) announce a job only once.
"""
import logging
import os
import time

import psycopg2

from .. import db
from ..db import Queries, connect, one_row
from ..runtime.background import Background
from ..runtime.per_process import PerProcess
from . import retention

log = logging.getLogger(__name__)
queries = Queries("overdue.sql")

LOCK_KEY = 7_402_117_014  # any constant shared by every process of this service


def sweep(conn):
    """Announce the jobs that became overdue since the last sweep, in one transaction; return how many."""
    with conn, conn.cursor() as cur:
        cur.execute(queries.notify_overdue_jobs)
        return cur.fetchone()[0]


class OverdueScheduler:
    """A background loop: take the advisory lock when free, and sweep while holding it.

    Its connection has the service's keepalives and tcp_user_timeout, and a statement timeout of its own
    (DB_STATEMENT_TIMEOUT_MS): on a half-open network the leader's sweep fails instead of hanging, and the
    lock passes on.
    """

    def __init__(self, database_url, interval, config=None, retention_settings=None, retention_interval=0):
        self.database_url, self.interval, self.config = database_url, interval, config
        # The leader also runs the retention pass (ops/retention.py) on its own, longer interval.
        self.retention_settings, self.retention_interval = retention_settings, retention_interval
        self._next_retention = 0.0
        self.leader = False
        self._conn = None
        self._loop = Background(f"overdue-scheduler-{os.getpid()}", self._round, interval)

    def start(self):
        """Start the loop (the first look at once); return self."""
        self._loop.start()
        return self

    def stop(self, timeout=2.0):
        """Stop the loop and close the connection (which releases the lock)."""
        self._loop.stop(timeout)
        self._close()

    def _round(self):
        try:
            self._tick()
        except psycopg2.Error as exc:  # the database went away: retry with a new connection
            log.warning("overdue scheduler: %s", exc)
            self._close()
        except Exception:  # let go of the lock, so a scheduler that works can take it
            self._close()
            raise

    def _tick(self):
        if self._conn is None:
            self._conn = connect(self.database_url, "overdue", self.config, autocommit=True,
                                 session_timeouts=True)
        if not self.leader:
            with self._conn.cursor() as cur:
                cur.execute(queries.try_lead, {"key": LOCK_KEY})
                self.leader = one_row(cur)[0]
        if self.leader:
            self._conn.autocommit = False
            try:
                announced = sweep(self._conn)
            finally:
                self._conn.autocommit = True
            if announced:
                log.info("overdue scheduler: %d notification(s)", announced)
            if self.retention_settings and self.retention_interval > 0 and time.monotonic() >= self._next_retention:
                self._next_retention = time.monotonic() + self.retention_interval
                self._retain()

    def _retain(self):
        try:
            log.info("retention: %s", retention.run_pass(self._conn, self.retention_settings))
        except (psycopg2.Error, OSError) as exc:  # a lock it gave way to, a full disk: try again next interval
            log.warning("retention pass stopped: %s", exc)

    def _close(self):
        conn, self._conn, self.leader = self._conn, None, False
        if conn is not None:
            try:
                conn.close()
            except psycopg2.Error:
                pass


EXTENSION = "overdue_scheduler"


def init_app(app):
    """Give `app` its overdue scheduler, one per process, started by start() (gunicorn's post_worker_init)."""
    app.extensions[EXTENSION] = PerProcess(lambda: OverdueScheduler(
        db.direct_url(app.config), app.config["OVERDUE_CHECK_SECONDS"], app.config,
        retention.RetentionSettings.from_config(app.config), app.config["RETENTION_CHECK_SECONDS"]).start(),
        close=lambda scheduler: scheduler.stop())


def start(app):
    """Start `app`'s scheduler in this process, unless OVERDUE_CHECK_SECONDS is 0."""
    if app.config["OVERDUE_CHECK_SECONDS"] > 0 and db.direct_url(app.config):
        app.extensions[EXTENSION].get()


def stop(app):
    """Stop `app`'s scheduler in this process, closing its connection (which releases the lock)."""
    app.extensions[EXTENSION].close()
