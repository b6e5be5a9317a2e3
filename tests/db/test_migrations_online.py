"""Online schema changes: `-- no-transaction` files, concurrent index builds under writers, lock timeouts."""
import threading
import time

import psycopg2
import pytest

from apps.api.db import migrate
from apps.api.db.sql_split import split_statements
from tests.support.database import applied_versions

LOCK_TIMEOUT_MS = 200
# A write may wait for the migration's lock request at most the lock timeout; the margin is the loaded
# 2-core machine's own hiccups (a blocking CREATE INDEX would stall writers for its whole build instead).
STALL_MARGIN_SECONDS = 0.5
PROBE_ROWS = 300_000
# An index key that is slow to compute, so the build lasts well past the stall bound: a blocking build
# would then stall the writers for longer than the bound, and the test would see it.
SLOW_KEY = "md5(repeat(payload, 60))"


def _quiet(line):
    pass


def _scalar(url, statement, params=None):
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchone()[0]
    finally:
        conn.close()



def test_split_keeps_semicolons_inside_quotes_comments_and_bodies():
    text = """-- no-transaction
    CREATE TABLE "a;b" (note text DEFAULT 'x;''y');
    /* a; comment */ CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
    -- only a comment;
    ;
    CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c)"""
    statements = split_statements(text)
    assert len(statements) == 3
    assert statements[0].endswith("""DEFAULT 'x;''y')""")
    assert "$body$ SELECT 1; $body$" in statements[1]
    assert statements[2].startswith("CREATE INDEX CONCURRENTLY")


PROBE_TABLE = (
    "CREATE TABLE probe (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload text NOT NULL, n int);\n"
    f"INSERT INTO probe (payload, n) SELECT md5(g::text), g FROM generate_series(1, {PROBE_ROWS}) g;\n")


def _migrated(url, tmp_path, first_sql):
    """Return a migrations directory holding 0001 (`first_sql`), applied to `url`."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_first.sql").write_text(first_sql)
    assert migrate.upgrade(url, directory, log=_quiet) == ["0001"]
    return directory


class Writers:
    """Threads that insert and update rows of `probe` in autocommit, timing every write."""

    def __init__(self, url, count=3):
        self.url, self.stop, self.writes, self.errors = url, threading.Event(), [], []
        self.threads = [threading.Thread(target=self._write, args=(seed,)) for seed in range(count)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _write(self, seed):
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        row = seed
        try:
            with conn.cursor() as cur:
                while not self.stop.is_set():
                    row = (row * 7919 + 1) % PROBE_ROWS + 1
                    started = time.monotonic()
                    cur.execute("INSERT INTO probe (payload, n) VALUES (md5(random()::text), %s)", (row,))
                    cur.execute("UPDATE probe SET n = n + 1 WHERE id = %s", (row,))
                    self.writes.append((started, time.monotonic() - started))
        except Exception as exc:  # asserted by the test
            self.errors.append(exc)
        finally:
            conn.close()


def test_concurrent_index_build_never_blocks_writers(empty_database_url, tmp_path):
    directory = _migrated(empty_database_url, tmp_path, PROBE_TABLE)
    (directory / "0002_probe_index.sql").write_text(
        "-- no-transaction\n"
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_probe_payload ON probe ({SLOW_KEY});\n")
    with Writers(empty_database_url) as writers:
        time.sleep(0.3)
        build_started = time.monotonic()
        applied = migrate.upgrade(empty_database_url, directory, log=_quiet, lock_timeout_ms=LOCK_TIMEOUT_MS)
        build_ended = time.monotonic()
        time.sleep(0.2)
    assert writers.errors == []
    assert applied == ["0002"]
    during = [seconds for started, seconds in writers.writes if build_started <= started <= build_ended]
    longest = max(seconds for _, seconds in writers.writes)
    print(f"\nconcurrent index build: {build_ended - build_started:.2f} s, {len(during)} writes meanwhile, "
          f"longest write stall {longest * 1000:.0f} ms (lock timeout {LOCK_TIMEOUT_MS} ms)")
    assert build_ended - build_started > LOCK_TIMEOUT_MS / 1000 + STALL_MARGIN_SECONDS, \
        "the build must outlast the stall bound, or a blocking build would pass too"
    assert len(during) >= 10, "the writers kept writing while the index was built"
    assert longest < LOCK_TIMEOUT_MS / 1000 + STALL_MARGIN_SECONDS
    assert _scalar(empty_database_url,
                   "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_probe_payload'::regclass")


def test_invalid_index_is_dropped_and_the_migration_left_unrecorded(empty_database_url, tmp_path):
    directory = _migrated(empty_database_url, tmp_path,
                          PROBE_TABLE + "INSERT INTO probe (payload, n) VALUES ('twin', 1);\n")
    (directory / "0002_probe_index.sql").write_text(
        "-- no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_probe_n ON probe (n);\n")
    with pytest.raises(migrate.MigrationError, match=r"building index public\.idx_probe_n failed \(ERROR:  could "
                                                      r"not create unique index.*dropped.*not recorded"):
        migrate.upgrade(empty_database_url, directory, log=_quiet)
    assert applied_versions(empty_database_url) == ["0001"]
    assert _scalar(empty_database_url, "SELECT to_regclass('idx_probe_n')") is None
    # Fix the data: the next run builds the index and records the migration.
    with psycopg2.connect(empty_database_url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM probe WHERE payload = 'twin'")
    conn.close()
    assert migrate.upgrade(empty_database_url, directory, log=_quiet) == ["0002"]
    assert _scalar(empty_database_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_probe_n'::regclass")


@pytest.mark.parametrize("second_sql", [
    "ALTER TABLE busy ADD COLUMN note text;\n",
    "-- no-transaction\nALTER TABLE busy ADD COLUMN IF NOT EXISTS note text;\n",
], ids=["in-transaction", "no-transaction"])
def test_lock_timeout_gives_way_then_retries(empty_database_url, tmp_path, second_sql):
    directory = _migrated(empty_database_url, tmp_path, "CREATE TABLE busy (id int PRIMARY KEY);\n")
    (directory / "0002_change.sql").write_text(second_sql)
    holder = psycopg2.connect(empty_database_url)  # a long transaction that read the table holds its lock
    lines = []

    def log(line):
        lines.append(line)
        if "lock timeout" in line:
            holder.rollback()  # the long transaction ends after the first try gave way

    try:
        with holder.cursor() as cur:
            cur.execute("SELECT count(*) FROM busy")
        assert migrate.upgrade(empty_database_url, directory, log=log, lock_timeout_ms=LOCK_TIMEOUT_MS) == ["0002"]
    finally:
        holder.close()
    assert sum("lock timeout" in line for line in lines) == 1
    assert _scalar(empty_database_url, "SELECT count(*) FROM information_schema.columns "
                                       "WHERE table_name = 'busy' AND column_name = 'note'") == 1


def test_lock_timeout_every_time_fails_clearly_and_unrecorded(empty_database_url, tmp_path):
    directory = _migrated(empty_database_url, tmp_path, "CREATE TABLE busy (id int PRIMARY KEY);\n")
    (directory / "0002_change.sql").write_text("ALTER TABLE busy ADD COLUMN note text;\n")
    holder = psycopg2.connect(empty_database_url)
    writer = psycopg2.connect(empty_database_url)
    writer.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT count(*) FROM busy")
        started = time.monotonic()
        with pytest.raises(migrate.MigrationError, match="waited 200 ms for a lock 3 times"):
            migrate.upgrade(empty_database_url, directory, log=_quiet, lock_timeout_ms=LOCK_TIMEOUT_MS, attempts=3)
        assert time.monotonic() - started < 10
        # Nothing queued behind the migration stays stuck: a write goes through at once.
        with writer.cursor() as cur:
            cur.execute("SET statement_timeout = '1s'; INSERT INTO busy VALUES (1)")
    finally:
        holder.close()
        writer.close()
    assert applied_versions(empty_database_url) == ["0001"]
