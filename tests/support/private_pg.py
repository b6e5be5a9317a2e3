"""A PostgreSQL of a test module's own, migrated and with the demo users, that tests may stop and start."""
import shutil
import tempfile
from pathlib import Path

import psycopg2

from apps.api import migrate
from apps.api.embedded_pg import EmbeddedPostgres
from apps.api.seed import seed_users


class PrivatePostgres:
    """An embedded server in a temp dir; `stop()`/`start()` restart it on the same port, for real."""

    def __init__(self, prefix="printshop-private-pg-"):
        self.data_dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.server = EmbeddedPostgres(self.data_dir / "pg", fast=True)

    @property
    def url(self):
        return self.server.url("postgres")

    def start(self):
        """Start the server (creating, migrating and seeding it the first time); return self."""
        first = not self.server.initialized()
        self.server.start()
        if first:
            self._prepare()
        return self

    def _prepare(self):
        migrate.upgrade(self.url, log=lambda line: None)
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                seed_users(cur, "demo")
                # fast=True turns synchronous_commit off: a commit would be acknowledged before its WAL
                # leaves shared memory, and a crash (immediate stop) could lose it. Production keeps it on,
                # and "no acknowledged write lost" is only a promise with it on.
                cur.execute("ALTER SYSTEM SET synchronous_commit = on")
                cur.execute("SELECT pg_reload_conf()")
        finally:
            conn.close()

    def stop(self, mode="fast"):
        """Stop the server: "fast" as an operator would, "immediate" as a crash would (recovery at start)."""
        self.server.stop(mode=mode)

    def execute(self, statement, params=None):
        """Run one statement in autocommit; return its rows (or None when it returns none)."""
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def close(self):
        """Stop the server for good and remove its files."""
        self.server.remove()
        shutil.rmtree(self.data_dir, ignore_errors=True)
