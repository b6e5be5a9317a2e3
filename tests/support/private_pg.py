"""A PostgreSQL of a test module's own, migrated and with the demo users, that tests may stop and start."""
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from apps.api.tools.embedded_pg import EmbeddedPostgres
from tests.support.database import execute, migrate_and_seed


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
        # fast=True turns synchronous_commit off: a commit would be acknowledged before its WAL leaves
        # shared memory, and a crash (immediate stop) could lose it. Production keeps it on, and
        # "no acknowledged write lost" is only a promise with it on.
        migrate_and_seed(self.url, "ALTER SYSTEM SET synchronous_commit = on", "SELECT pg_reload_conf()")

    def stop(self, mode="fast"):
        """Stop the server: "fast" as an operator would, "immediate" as a crash would (recovery at start)."""
        self.server.stop(mode=mode)

    def execute(self, statement, params=None):
        """Run one statement in autocommit; return its rows (or None when it returns none)."""
        return execute(self.url, statement, params)

    def close(self):
        """Stop the server for good and remove its files."""
        self.server.remove()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@contextmanager
def primary_with_standby(prefix):
    """Yield a PrivatePostgres and a streaming standby of it; remove both afterwards."""
    primary = PrivatePostgres(prefix=prefix).start()
    standby = primary.server.make_standby(primary.data_dir / "standby").start()
    try:
        yield primary, standby
    finally:
        standby.remove()
        primary.close()
