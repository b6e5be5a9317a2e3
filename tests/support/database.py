"""The test PostgreSQL: where it listens, a migrated database with the demo users, and a cheap reset."""
import psycopg2
from psycopg2 import sql

from apps.api.db import migrate
from apps.api.tools.seed import seed_users
from tests.support.auth import DEMO_PASSWORD

TEST_DB = "printshop_test"
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


def snapshot(url):
    """Copy every table and sequence value of `url` into SNAPSHOT_SCHEMA; return (tables, sequences)."""
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
    finally:
        conn.close()
    return tables, sequences


def reset_database(url, tables, sequences):
    """Put every table and sequence back to the snapshot (TRUNCATE + copy: far cheaper than CREATE DATABASE)."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET lock_timeout = '10s'")
            # Rows are restored in any order; foreign keys and triggers are not re-run for them.
            cur.execute("SET session_replication_role = replica")
            cur.execute(sql.SQL("TRUNCATE {}").format(
                sql.SQL(", ").join(sql.Identifier(table) for table in tables)))
            for table in tables:
                cur.execute(sql.SQL("INSERT INTO public.{} OVERRIDING SYSTEM VALUE SELECT * FROM {}.{}").format(
                    sql.Identifier(table), sql.Identifier(SNAPSHOT_SCHEMA), sql.Identifier(table)))
            for name, last_value in sequences:
                cur.execute("SELECT setval(%s, %s, %s)", (name, last_value or 1, last_value is not None))
    finally:
        conn.close()
