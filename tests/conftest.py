"""Test fixtures: one real PostgreSQL per run, the real migrations, a fresh database per test."""
import itertools
import os
import secrets
import uuid
from datetime import timedelta
import shutil
import tempfile

os.environ["APP_ENV"] = "test"  # before the app is imported: never read .env.dev in tests

import psycopg2
import pytest
from psycopg2 import sql

from apps.api import create_app, migrate
from apps.api.embedded_pg import EmbeddedPostgres
from apps.api.seed import seed_users
from apps.api.db import close_all_pools
from apps.api.cache import close_all_caches

TEST_DB = "printshop_test"
# A new random secret per run: no secret written in the repository signs or verifies a token anywhere.
TEST_SECRET = "test-" + secrets.token_urlsafe(32)
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
        close_all_pools()
        embedded.remove()  # as root the cluster lives outside data_dir (apps/api/embedded_root.py)
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
    close_all_pools()
    pg_server.drop_database(TEST_DB)


@pytest.fixture
def database_url(test_database):
    """The test database, reset to the freshly migrated state with the demo users."""
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    yield url
    close_all_pools()


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
    close_all_caches()  # the response cache's LISTEN thread and connection (apps/api/cache.py)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Make tokens for the demo users without a login round trip (scrypt is slow on purpose).

    Each token starts a session of its own in the database, as a login would; access tokens are fresh.
    """

    def __init__(self, app, database_url):
        self.app = app
        self.database_url = database_url
        conn = psycopg2.connect(database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT username, id, role FROM users")
                self.users = {name: (user_id, role) for name, user_id, role in cur.fetchall()}
        finally:
            conn.close()

    def user_id(self, username):
        return self.users[username][0]

    def start_session(self, username):
        """Insert a live session of `username`; return (session id, its refresh token id)."""
        sid, refresh_jti = str(uuid.uuid4()), str(uuid.uuid4())
        conn = psycopg2.connect(self.database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("INSERT INTO sessions (id, user_id, refresh_jti, expires_at) "
                            "VALUES (%s, %s, %s, now() + interval '30 days')",
                            (sid, self.user_id(username), refresh_jti))
        finally:
            conn.close()
        return sid, refresh_jti

    def token(self, username, refresh=False, fresh=True):
        from flask_jwt_extended import create_access_token, create_refresh_token

        user_id, role = self.users[username]
        sid, refresh_jti = self.start_session(username)
        claims = {"role": role, "sid": sid}
        with self.app.app_context():
            if refresh:
                return create_refresh_token(identity=str(user_id), additional_claims=dict(claims, jti=refresh_jti))
            return create_access_token(identity=str(user_id), additional_claims=claims,
                                       fresh=timedelta(minutes=15) if fresh else False)

    def headers(self, username, refresh=False, fresh=True):
        return {"Authorization": f"Bearer {self.token(username, refresh, fresh)}"}


@pytest.fixture
def auth(app, database_url):
    return AuthActions(app, database_url)
