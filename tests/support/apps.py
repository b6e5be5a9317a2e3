"""Test applications: their configuration, one app shared by a module, and closing what apps opened."""
from contextlib import contextmanager

import psycopg2

from apps.api import create_app
from apps.api.cache import close_all_caches
from apps.api.db import close_all_pools
from tests.support.auth import TEST_SECRET, AuthActions
from tests.support.database import reset_database

# For apps that only serve their URL map or OpenAPI document: nothing listens there.
NO_DATABASE = "postgresql://unused@127.0.0.1:1/unused"


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


def build_app(database_url, **overrides):
    """Return the app for `database_url` in testing mode (errors propagate to the test)."""
    app = create_app(app_config(database_url, **overrides))
    app.testing = True
    return app


def close_pools_and_caches():
    """Close the connection pools and response caches (with their LISTEN threads) the test apps opened."""
    # The one place tests close them; apps own them once db/cache keep their state in app.extensions.
    close_all_caches()
    close_all_pools()


@contextmanager
def module_app(test_database):
    """Reset the test database; yield (app, AuthActions, an autocommit connection) for a module's tests."""
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    app = build_app(url)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        yield app, AuthActions(app, url), conn
    finally:
        conn.close()
        close_pools_and_caches()
