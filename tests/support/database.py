"""The test PostgreSQL: where it listens, a migrated database with the demo users, and a cheap reset."""
import os

import psycopg2
from psycopg2 import sql

from apps.api.db import migrate
from apps.api.tools.seed import seed_users
from tests.support.auth import DEMO_PASSWORD
from tests.support.kept import close_kept_connections, discard, kept_connection

# One database per test process: pytest-xdist's workers (make test-fast) may share a TEST_DATABASE_URL server.
TEST_DB = "printshop_test" + (f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else "")
SNAPSHOT_SCHEMA = "test_snapshot"


class Server:
    """Where the test PostgreSQL listens; `admin_url` reaches its maintenance database."""

    def __init__(self, admin_url, embedded=None):
        self.admin_url = admin_url
        self.embedded = embedded

    def url(self, dbname):
        return _with_dbname(self.admin_url, dbname)

    def execute(self, statement, params=None):
        return execute(self.admin_url, statement, params)

    def create_database(self, name, template=None):
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            close_kept_connections()  # a template may have no other session
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self.execute(statement)

    def drop_database(self, name):
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def execute(url, statement, params=None):
    """Run one statement on `url` in autocommit; return its rows (or None when it returns none)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def applied_versions(url):
    """Return the versions recorded in schema_migrations of the database at `url`, in order."""
    rows = execute(url, "SELECT version FROM schema_migrations ORDER BY version")
    return [row[0] for row in rows]


def _with_dbname(url, dbname):
    head, _, tail = url.rpartition("/")
    query = ""
    if "?" in tail:
        tail, _, query = tail.partition("?")
        query = "?" + query
    return f"{head}/{dbname}{query}"


def migrate_and_seed(url, *more_statements):
    """Run the real migrations on `url`, add the demo users, then run `more_statements` in autocommit."""
    migrate.upgrade(url, log=lambda line: None)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            seed_users(cur, DEMO_PASSWORD)
            for statement in more_statements:
                cur.execute(statement)
    finally:
        conn.close()


# Only the tables a test changed are emptied and restored, with DELETE (TRUNCATE makes new files for a table
# and its indexes: most of a fast test's time). With triggers and foreign keys off (session_replication_role),
# no table that references a changed one needs restoring: unchanged, it only points at snapshot rows.
# A table changed when its row count differs from the snapshot's or a row is newer than the last reset.


def snapshot(url):
    """Copy every table and sequence value of `url` into SNAPSHOT_SCHEMA, with its restore() function.

    Return (tables, sequences).
    """
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'schema_migrations' ORDER BY tablename")
            tables = [row[0] for row in cur.fetchall()]
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SNAPSHOT_SCHEMA)))
            for table in tables:
                cur.execute(sql.SQL("CREATE TABLE {}.{} AS TABLE public.{}").format(
                    sql.Identifier(SNAPSHOT_SCHEMA), sql.Identifier(table), sql.Identifier(table)))
            cur.execute("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences "
                        "WHERE schemaname = 'public'")
            sequences = cur.fetchall()
            cur.execute(sql.SQL(RESTORE).format(schema=sql.Identifier(SNAPSHOT_SCHEMA),
                                                schema_text=sql.SQL(SNAPSHOT_SCHEMA)))
            for name, last_value in sequences:
                cur.execute(sql.SQL("INSERT INTO {}.sequence_values VALUES (%s, %s)").format(
                    sql.Identifier(SNAPSHOT_SCHEMA)), (name, last_value))
            cur.execute(sql.SQL("INSERT INTO {schema}.row_counts SELECT unnest(%s::text[]), 0").format(
                schema=sql.Identifier(SNAPSHOT_SCHEMA)), (tables,))
            cur.execute(sql.SQL("SELECT {}.restore(true)").format(sql.Identifier(SNAPSHOT_SCHEMA)))
    finally:
        conn.close()
    return tables, sequences


# {schema}.restore(everything): empty the changed tables (all of them when `everything`), copy their snapshot
# rows back, set every sequence back; remember the rows' count and this
# transaction's id, against which the next call tells what changed. The test role is a superuser.
RESTORE = """
CREATE TABLE {schema}.sequence_values (name text PRIMARY KEY, last_value bigint);
CREATE TABLE {schema}.row_counts (name text PRIMARY KEY, n bigint);
CREATE TABLE {schema}.last_reset (xid bigint);
INSERT INTO {schema}.last_reset VALUES (0);
CREATE FUNCTION {schema}.restore(everything boolean DEFAULT false) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    since bigint := (SELECT xid FROM {schema}.last_reset);
    changed text[] := '{{}}';
    t record;
    counted bigint;
    newer boolean;
BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);  -- rows back in any order, no triggers
    PERFORM set_config('lock_timeout', '10s', true);
    FOR t IN SELECT rc.name, rc.n AS expected FROM {schema}.row_counts rc LOOP
        IF everything THEN
            changed := changed || t.name;
            CONTINUE;
        END IF;
        EXECUTE format('SELECT count(*), coalesce(bool_or(xmin::text::bigint > %s), false) FROM public.%I',
                       since, t.name) INTO counted, newer;
        IF counted <> t.expected OR newer THEN
            changed := changed || t.name;
        END IF;
    END LOOP;
    FOR t IN SELECT unnest(changed) AS name LOOP
        EXECUTE format('DELETE FROM public.%I', t.name);
        EXECUTE format('INSERT INTO public.%I OVERRIDING SYSTEM VALUE SELECT * FROM {schema_text}.%I',
                       t.name, t.name);
        EXECUTE format('SELECT count(*) FROM public.%I', t.name) INTO counted;
        UPDATE {schema}.row_counts SET n = counted WHERE name = t.name;
    END LOOP;
    PERFORM setval(s.name, coalesce(s.last_value, 1), s.last_value IS NOT NULL) FROM {schema}.sequence_values s;
    UPDATE {schema}.last_reset SET xid = txid_current() & 4294967295;
END
$$;
"""
def reset_database(url, tables, sequences):
    """Put every table and sequence back to the snapshot: one call of its restore(), on a connection kept per run."""
    try:
        _restore(url)
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        discard(url, "reset")  # the server restarted under a fault test: once more, reconnected
        _restore(url)


def _restore(url):
    with kept_connection(url, "reset", check=False).cursor() as cur:
        cur.execute(sql.SQL("SELECT {}.restore()").format(sql.Identifier(SNAPSHOT_SCHEMA)))
