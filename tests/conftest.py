"""Test fixtures: one real PostgreSQL per run, the real migrations, a fresh database per test."""
import itertools
import os
import shutil
import tempfile

os.environ["APP_ENV"] = "test"  # before the app is imported: never read .env.dev in tests

import psycopg2
import pytest
from psycopg2 import sql

from apps.api import close_resources, create_app
from apps.api.db import migrate
from apps.api.tools.embedded_pg import EmbeddedPostgres
from apps.api.tools.seed import seed_users

TEST_DB = "printshop_test"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
DEMO_PASSWORD = "demo"
_counter = itertools.count(1)


class Server:
    """Where the test PostgreSQL listens; `admin_url` reaches its maintenance database."""

    def __init__(self, admin_url, embedded=None):
        self.admin_url = admin_url
        self.embedded = embedded

    def url(self, dbname):
        return _with_dbname(self.admin_url, dbname)

    def execute(self, statement, params=None):
        conn = psycopg2.connect(self.admin_url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
        finally:
            conn.close()

    def create_database(self, name, template=None):
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self.execute(statement)

    def drop_database(self, name):
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _with_dbname(url, dbname):
    head, _, tail = url.rpartition("/")
    query = ""
    if "?" in tail:
        tail, _, query = tail.partition("?")
        query = "?" + query
    return f"{head}/{dbname}{query}"


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the whole run: TEST_DATABASE_URL's, or an embedded one in a temp dir."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield Server(given)
        return
    data_dir = tempfile.mkdtemp(prefix="printshop-test-pg-")
    embedded = EmbeddedPostgres(os.path.join(data_dir, "data"), fast=True).start()
    try:
        yield Server(embedded.url("postgres"), embedded)
    finally:
        embedded.stop(mode="immediate")
        shutil.rmtree(data_dir, ignore_errors=True)


SNAPSHOT_SCHEMA = "test_snapshot"


def _snapshot(url):
    """Copy every table and sequence value of `url` into SNAPSHOT_SCHEMA; return the table list."""
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


@pytest.fixture(scope="session")
def test_database(pg_server):
    """Build the schema once by running the real migrations, add the demo users, snapshot it."""
    pg_server.drop_database(TEST_DB)
    pg_server.create_database(TEST_DB)
    url = pg_server.url(TEST_DB)
    migrate.upgrade(url, log=lambda line: None)
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            seed_users(cur, DEMO_PASSWORD)
    finally:
        conn.close()
    tables, sequences = _snapshot(url)
    yield url, tables, sequences
    pg_server.drop_database(TEST_DB)


@pytest.fixture
def database_url(test_database):
    """The test database, reset to the freshly migrated state with the demo users."""
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    return url


@pytest.fixture
def empty_database_url(pg_server):
    """A database with no schema at all."""
    name = f"printshop_empty_{os.getpid()}_{next(_counter)}"
    pg_server.create_database(name)
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def db(database_url):
    """A direct autocommit connection to the test database, for arranging and checking rows."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    yield conn
    conn.close()


def app_config(database_url, **overrides):
    """Return the test configuration for `database_url`."""
    config = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SECRET,
        "DB_POOL_MIN_CONNECTIONS": 1,
        "DB_POOL_MAX_CONNECTIONS": 5,
        "DB_POOL_TIMEOUT": 2.0,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(database_url):
    """The application bound to this test's database."""
    application = create_app(app_config(database_url))
    application.testing = True
    yield application
    close_resources(application)  # its pool, and its cache's LISTEN thread and connection


@pytest.fixture
def new_app():
    """Build more apps inside a test (each has its own pool and cache, like a worker); close them after."""
    made = []

    def build(config):
        application = create_app(config)
        application.testing = True
        made.append(application)
        return application

    yield build
    for application in made:
        close_resources(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Make tokens for the demo users without a login round trip (scrypt is slow on purpose)."""

    def __init__(self, app, database_url):
        self.app = app
        conn = psycopg2.connect(database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT username, id, role FROM users")
                self.users = {name: (user_id, role) for name, user_id, role in cur.fetchall()}
        finally:
            conn.close()

    def user_id(self, username):
        return self.users[username][0]

    def token(self, username, refresh=False):
        from flask_jwt_extended import create_access_token, create_refresh_token

        user_id, role = self.users[username]
        make = create_refresh_token if refresh else create_access_token
        with self.app.app_context():
            return make(identity=str(user_id), additional_claims={"role": role})

    def headers(self, username, refresh=False):
        return {"Authorization": f"Bearer {self.token(username, refresh)}"}


@pytest.fixture
def auth(app, database_url):
    return AuthActions(app, database_url)
