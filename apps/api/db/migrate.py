"""Forward-only plain-SQL migrations: `migrations/NNNN_name.sql`, each in one transaction.

A file whose first line is `-- no-transaction` runs one statement at a time outside a transaction (for
`CREATE INDEX CONCURRENTLY`); its statements must be safe to run again (IF NOT EXISTS), since a failure
leaves it unrecorded and the next run starts it over. Every migration waits at most MIGRATION_LOCK_TIMEOUT_MS
for a lock, because the application's queries queue behind a waiting DDL statement; on a lock timeout it
gives way and tries again, MIGRATION_LOCK_ATTEMPTS times in all.
"""
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor

from ..config import PROJECT_ROOT, Config
from .connect import connect
from .queries import Queries
from .sql_split import split_statements

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
queries = Queries("migrations.sql")
FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every process that migrates.
ADVISORY_LOCK_KEY = 7_402_117_001
NO_TRANSACTION_MARK = "-- no-transaction"
# Pause before the next try grows with each lock timeout, so a long transaction gets time to finish.
RETRY_PAUSE_SECONDS = 0.5
ADVISORY_LOCK_POLL_SECONDS = 0.1
Result = TypeVar("Result")
Log = Callable[[str], object]


class MigrationError(Exception):
    """The database and the migration files disagree."""


@dataclass
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def transactional(self) -> bool:
        lines = self.sql.splitlines()
        return not (lines and lines[0].strip().lower() == NO_TRANSACTION_MARK)


def discover(directory: Path | str = MIGRATIONS_DIR) -> list[Migration]:
    """Return the migration files of `directory` in version order."""
    found = []
    for path in sorted(Path(directory).glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_what_it_does.sql")
        found.append(Migration(match.group(1), match.group(2), path))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise MigrationError("two migration files share a version number")
    return found


def _ensure_table(cur: Cursor) -> None:
    cur.execute(queries.create_schema_migrations)


def _applied(cur: Cursor) -> dict[str, tuple[Any, ...]]:
    cur.execute(queries.list_applied)
    return {row[0]: row for row in cur.fetchall()}


def _check_unchanged(migrations: list[Migration], applied: dict[str, tuple[Any, ...]]) -> None:
    by_version = {m.version: m for m in migrations}
    for version, (_, name, checksum, _) in applied.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(f"{version}_{name} is applied but its file is gone")
        if migration.checksum != checksum:
            raise MigrationError(
                f"{migration.path.name} was edited after it was applied; "
                "write a new migration instead of changing an applied one")


def upgrade(database_url: str, directory: Path | str = MIGRATIONS_DIR, log: Log = print,
            lock_timeout_ms: int = Config.MIGRATION_LOCK_TIMEOUT_MS,
            attempts: int = Config.MIGRATION_LOCK_ATTEMPTS,
            lock_wait_s: float = Config.MIGRATION_LOCK_WAIT_S) -> list[str]:
    """Apply every pending migration in order; return the versions applied."""
    migrations = discover(directory)
    conn = connect(database_url, "migrate")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            # Session lock: a second process waits here, then finds nothing pending.
            _wait_for_advisory_lock(cur, lock_wait_s)
            try:
                # Every later wait for a lock gives way after lock_timeout (the advisory lock is polled,
                # not waited for).
                cur.execute(queries.set_lock_timeout, {"lock_timeout": f"{int(lock_timeout_ms)}ms"})
                _ensure_table(cur)
                applied = _applied(cur)
                _check_unchanged(migrations, applied)
                done: list[str] = []
                for migration in migrations:
                    if migration.version in applied:
                        continue
                    retrying = _Retrying(migration, lock_timeout_ms, attempts, log)
                    if migration.transactional:
                        log(f"applying {migration.path.name}")
                        retrying.run(partial(_apply_in_transaction, cur, migration))
                    else:
                        log(f"applying {migration.path.name} (outside a transaction)")
                        _apply_statements(cur, migration, retrying, log)
                    done.append(migration.version)
                return done
            finally:
                cur.execute(queries.advisory_unlock, {"key": ADVISORY_LOCK_KEY})
    finally:
        conn.close()


def _wait_for_advisory_lock(cur: Cursor, wait_s: float) -> None:
    """Take the migrations' session lock, polling for at most `wait_s` seconds (then MigrationError): a session
    blocked in pg_advisory_lock() would be one that CREATE INDEX CONCURRENTLY (run by the lock's holder) waits
    for, a deadlock; and a runner stuck behind a hung one must say so rather than wait for ever."""
    deadline = time.monotonic() + wait_s
    while True:
        cur.execute(queries.try_advisory_lock, {"key": ADVISORY_LOCK_KEY})
        row = cur.fetchone()
        if row is not None and row[0]:
            return
        if time.monotonic() >= deadline:
            cur.execute(queries.advisory_lock_holder, {"key": ADVISORY_LOCK_KEY})
            holder = cur.fetchone()
            raise MigrationError(
                f"another migration runner (backend pid {holder[0] if holder else 'unknown'}) has held the "
                f"migrations' advisory lock for over {wait_s:g} s (MIGRATION_LOCK_WAIT_S); let it finish, or "
                "end that session (pg_terminate_backend), then run the migrations again")
        time.sleep(ADVISORY_LOCK_POLL_SECONDS)


class _Retrying:
    """Run a step of one migration again after a lock timeout, a few times, pausing longer each time."""

    def __init__(self, migration: Migration, lock_timeout_ms: int, attempts: int, log: Log) -> None:
        self.migration, self.lock_timeout_ms, self.attempts, self.log = migration, lock_timeout_ms, attempts, log

    def run(self, step: Callable[[], Result], cleanup: Callable[[], object] = lambda: None) -> Result:
        """Return step(); after a lock timeout call cleanup() and try again, up to `attempts` tries in all."""
        for attempt in range(1, self.attempts + 1):
            try:
                return step()
            except psycopg2.errors.LockNotAvailable:
                cleanup()
                if attempt == self.attempts:
                    raise MigrationError(
                        f"{self.migration.path.name}: waited {self.lock_timeout_ms} ms for a lock {self.attempts} "
                        "times and gave way each time (a long transaction holds the table); it is not applied, "
                        "run the migration again later") from None
                self.log(f"{self.migration.path.name}: lock timeout after {self.lock_timeout_ms} ms, "
                         f"trying again ({attempt}/{self.attempts})")
                time.sleep(RETRY_PAUSE_SECONDS * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _apply_in_transaction(cur: Cursor, migration: Migration) -> None:
    cur.execute(queries.begin)
    try:
        cur.execute(migration.sql)
        _record(cur, migration)
        cur.execute(queries.commit)
    except BaseException:
        cur.execute(queries.rollback)
        raise


def _apply_statements(cur: Cursor, migration: Migration, retrying: _Retrying, log: Log) -> None:
    """Run a `-- no-transaction` migration statement by statement, then check the indexes it built."""
    invalid_before = _invalid_indexes(cur)

    def drop_new_invalid() -> list[str]:
        return _drop_invalid_indexes(cur, _invalid_indexes(cur) - invalid_before, log)

    for statement in split_statements(migration.sql):
        try:
            # A concurrent build that fails (lock timeout included) leaves an invalid index behind.
            retrying.run(partial(cur.execute, statement), cleanup=drop_new_invalid)
        except BaseException as exc:
            try:
                dropped = drop_new_invalid()
            except psycopg2.Error:  # the connection is gone: the next run finds and drops it
                dropped = []
            if dropped and isinstance(exc, psycopg2.Error):
                reason = (exc.pgerror or str(exc)).strip().splitlines()[0]
                raise MigrationError(
                    f"{migration.path.name}: building index {', '.join(dropped)} failed ({reason}); the invalid "
                    "index was dropped and the migration is not recorded: fix the cause and run it again") from exc
            raise
    dropped = drop_new_invalid()
    if dropped:
        raise MigrationError(
            f"{migration.path.name}: index {', '.join(dropped)} was left invalid by its build and was dropped; "
            "the migration is not recorded, run it again")
    _record(cur, migration)


def _invalid_indexes(cur: Cursor) -> set[tuple[str, str]]:
    """Return the (schema, name) of every index of this database that cannot serve queries."""
    cur.execute(queries.list_invalid_indexes)
    return set(cur.fetchall())


def _drop_invalid_indexes(cur: Cursor, indexes: set[tuple[str, str]], log: Log) -> list[str]:
    """Drop `indexes` without blocking writers; return their names."""
    names = []
    for schema, name in sorted(indexes):
        log(f"dropping invalid index {schema}.{name}")
        cur.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
            sql.Identifier(schema), sql.Identifier(name)))
        names.append(f"{schema}.{name}")
    return names


def _record(cur: Cursor, migration: Migration) -> None:
    cur.execute(queries.record_migration, {"version": migration.version, "name": migration.name,
                                           "checksum": migration.checksum})


def status(database_url: str, directory: Path | str = MIGRATIONS_DIR) -> tuple[list[tuple[Any, ...]], list[Migration]]:
    """Return (applied, pending): applied rows and pending Migration objects."""
    migrations = discover(directory)
    conn = connect(database_url, "migrate")
    try:
        with conn, conn.cursor() as cur:
            _ensure_table(cur)
            applied = _applied(cur)
    finally:
        conn.close()
    pending = [m for m in migrations if m.version not in applied]
    return list(applied.values()), pending
