"""Test applications: their configuration, and one app shared by a module (closed through the app)."""
from contextlib import contextmanager

import psycopg2
from werkzeug.routing import rules

from apps.api import close_resources, create_app
from tests.support.auth import TEST_SECRET, AuthActions
from tests.support.database import reset_database

# For apps that only serve their URL map or OpenAPI document: nothing listens there.
NO_DATABASE = "postgresql://unused@127.0.0.1:1/unused"
# Seconds a worker trusts its view of a session (1 s in service): short, so tests wait little for it to expire.
SESSION_STATE_TTL = 0.2


def compile_url_builders_lazily():
    """Make werkzeug compile a route's URL builder when it first builds a URL, not when the app is built.

    Building an app compiles two builders per route (two thirds of create_app's time, paid by every test);
    the API builds few URLs, and a builder compiled later builds the same URL. Matching is untouched.
    """
    original = getattr(rules.Rule, "_compile_builder", None)
    if original is None or getattr(original, "lazy", False):
        return  # another werkzeug: leave it alone

    def compile_builder(rule, append_unknown=True):
        built = []

        def build(bound_rule, *args, **kwargs):
            if not built:
                built.append(original(bound_rule, append_unknown))
            return built[0](bound_rule, *args, **kwargs)

        return build

    compile_builder.lazy = True
    rules.Rule._compile_builder = compile_builder


def app_config(database_url, **overrides):
    """Return the test configuration for `database_url`."""
    config = {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": TEST_SECRET,
        "DB_POOL_MIN_CONNECTIONS": 1,
        "DB_POOL_MAX_CONNECTIONS": 5,
        "DB_POOL_TIMEOUT": 2.0,
        "SESSION_STATE_TTL_SECONDS": SESSION_STATE_TTL,
    }
    config.update(overrides)
    return config


def build_app(database_url, **overrides):
    """Return the app for `database_url` in testing mode (errors propagate to the test)."""
    app = create_app(app_config(database_url, **overrides))
    app.testing = True
    return app


@contextmanager
def module_app(test_database):
    """Reset the test database; yield (app, AuthActions, an autocommit connection) for a module's tests."""
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    app = build_app(url)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    auth = AuthActions(app, url)
    try:
        yield app, auth, conn
    finally:
        conn.close()
        close_resources(app)
