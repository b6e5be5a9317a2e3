"""Test fixtures: a real PostgreSQL per test process (make test-fast runs two), the real migrations, a fresh
database per test.

Fixtures only: the helpers they use, and every factory a test needs, live in tests/support/.
"""
import os
import shutil
import tempfile
import uuid

os.environ["APP_ENV"] = "test"  # before the app is imported: never read .env.dev in tests

import pytest

from apps.api import close_resources
from apps.api.tools.embedded_pg import EmbeddedPostgres
from tests.support.apps import build_app, compile_url_builders_lazily
from tests.support.auth import AuthActions
from tests.support.database import TEST_DB, Server, migrate_and_seed, reset_database, snapshot
from tests.support.kept import close_kept_connections, kept_connection, tidy
from tests.support.passwords import TEST_METHOD, use_method

compile_url_builders_lazily()
use_method(TEST_METHOD)  # before the demo users are seeded (tests/support/passwords.py)

# Kinds of test that are slow by nature: `-m "not slow"` (make test-fast) leaves them out with the slow ones.
SLOW_KINDS = ("fuzz", "multiprocess", "browser")
# Modules that schemathesis fuzzes: it builds the cases while collecting (tens of seconds), so a run whose -m
# leaves fuzz tests out does not collect them at all.
FUZZ_MODULES = ("test_fuzz_openapi.py", "test_security_fuzz.py")


def pytest_collection_modifyitems(items):
    for item in items:
        # A test on a database of its own (empty_database_url) runs the migrations or a restore into it.
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS) or "empty_database_url" in item.fixturenames:
            item.add_marker(pytest.mark.slow)


def pytest_ignore_collect(collection_path, config):
    if collection_path.name not in FUZZ_MODULES or not config.option.markexpr:
        return None
    from _pytest.mark.expression import Expression  # pytest's own -m parser

    expression = Expression.compile(config.option.markexpr)
    markers_of_its_tests = (("fuzz", "slow"), ("fuzz", "slow", "multiprocess"))  # the latter: the run over HTTP
    for markers in markers_of_its_tests:
        if expression.evaluate(lambda name, markers=markers, **_: name in markers):
            return None
    return True


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
        embedded.remove()  # as root the cluster lives outside data_dir (apps/api/tools/embedded_root.py)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def test_database(pg_server):
    """Build the schema once by running the real migrations, add the demo users, snapshot it."""
    pg_server.drop_database(TEST_DB)
    pg_server.create_database(TEST_DB)
    url = pg_server.url(TEST_DB)
    migrate_and_seed(url)
    tables, sequences = snapshot(url)
    yield url, tables, sequences
    close_kept_connections()
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
    name = f"printshop_empty_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    pg_server.create_database(name)
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def db(database_url):
    """A direct autocommit connection to the test database, for arranging and checking rows (kept for the run,
    handed back clean: tests/support/kept.py)."""
    conn = kept_connection(database_url, "db")
    yield conn
    tidy(conn)


@pytest.fixture
def app(database_url):
    """The application bound to this test's database."""
    application = build_app(database_url)
    yield application
    close_resources(application)  # its pool, and its cache's LISTEN thread and connection


@pytest.fixture
def new_app():
    """Build more apps inside a test (each with its own pool and cache, like a worker); close them after."""
    made = []

    def build(database_url, **overrides):
        made.append(build_app(database_url, **overrides))
        return made[-1]

    yield build
    for application in made:
        close_resources(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(app, database_url):
    return AuthActions(app, database_url)
