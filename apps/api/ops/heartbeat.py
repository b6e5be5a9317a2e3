"""Each worker's heartbeat: its pool and cache statistics, published every HEARTBEAT_SECONDS into
worker_heartbeats (migrations/0030), so any worker can report the whole fleet (?scope=all)."""
import logging
import os
import socket
from datetime import UTC, datetime

import psycopg2
from flask import current_app
from psycopg2.extras import Json

from .. import cache, db
from ..db import PoolError, Queries
from ..runtime.background import Background
from ..runtime.per_process import PerProcess

log = logging.getLogger(__name__)
queries = Queries("heartbeats.sql")
EXTENSION = "heartbeat"
STALE_HEARTBEATS = 3  # a worker silent for this many intervals has dropped out


def instance_name(config):
    """Name this instance: INSTANCE_NAME, or the host it runs on and its gunicorn master (never a database address)."""
    return config["INSTANCE_NAME"] or f"{socket.gethostname()}:{os.getppid()}"


def worker_stats(app):
    """Return this worker's database statistics (pool, replicas) and cache statistics, or None for each."""
    database = db.database(app)
    pool = database.stats()
    db_stats = {"pool": pool, "databases": database.databases()} if pool is not None else None
    return db_stats, cache.cache_stats(app)


class Heartbeat:
    """A background loop publishing this worker's statistics until stopped; stopping removes its row."""

    def __init__(self, app):
        self.app, self.seconds = app, app.config["HEARTBEAT_SECONDS"]
        self.instance, self.pid = instance_name(app.config), os.getpid()
        self.started_at = datetime.now(UTC)
        self._loop = Background("heartbeat", self._beat, self.seconds)

    def start(self):
        """Start publishing (the first beat at once); return self."""
        self._loop.start()
        return self

    def publish(self):
        """Publish this worker's statistics now, and forget workers that fell silent."""
        db_stats, cache_stats = worker_stats(self.app)
        with self.app.app_context(), db.cursor() as cur:
            cur.execute(queries.publish_heartbeat, {
                "instance": self.instance, "pid": self.pid, "started_at": self.started_at,
                "db_stats": Json(db_stats or {}), "cache_stats": Json(cache_stats) if cache_stats else None})
            cur.execute(queries.forget_stale_workers, {"stale_seconds": STALE_HEARTBEATS * self.seconds})

    def _beat(self):
        try:
            self.publish()
        except (PoolError, psycopg2.Error) as exc:  # the database is away: the next beat tries again
            log.info("heartbeat not published: %s", type(exc).__name__)

    def stop(self, timeout=2.0):
        """Stop publishing and remove this worker's row (best effort: it goes stale anyway)."""
        self._loop.stop(timeout)
        try:
            with self.app.app_context(), db.cursor() as cur:
                cur.execute(queries.forget_worker, {"instance": self.instance, "pid": self.pid})
        except (PoolError, psycopg2.Error):
            pass


def init_app(app):
    """Give `app` its heartbeat (started by `start(app)` in each worker, after gunicorn forks)."""
    app.extensions[EXTENSION] = PerProcess(lambda: Heartbeat(app).start(), close=lambda beat: beat.stop())


def start(app):
    """Start this worker's heartbeat (gunicorn's post_worker_init)."""
    app.extensions[EXTENSION].get()


def stop(app):
    """Stop this worker's heartbeat and remove its row."""
    app.extensions[EXTENSION].close()


def live_workers(stale_seconds):
    """Return every worker heard from within `stale_seconds`, from the primary."""
    with db.cursor() as cur:
        cur.execute(queries.list_live_workers, {"stale_seconds": stale_seconds})
        return cur.fetchall()


def fleet(extract):
    """Return every live worker of every instance as {"instance", "pid", "age_s", ...extract(heartbeat row)}."""
    stale = STALE_HEARTBEATS * current_app.config["HEARTBEAT_SECONDS"]
    return [{"instance": row["instance"], "pid": row["pid"], "age_s": row["age_s"],
             "started_at": row["started_at"], **extract(row)} for row in live_workers(stale)]
