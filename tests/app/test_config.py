"""Configuration: read from the environment, refused in production when unsafe."""
import os
import secrets
import subprocess
import sys

import pytest

from apps.api import create_app
from apps.api.config import Config, ConfigError, default_workers, environment

GOOD_SECRET = secrets.token_urlsafe(32)
PROD = {"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@db/app", "JWT_SECRET_KEY": GOOD_SECRET,
        "METRICS_TOKEN": secrets.token_urlsafe(32), "TRUSTED_HOSTS": "printshop.example"}


def test_types_are_converted():
    config = Config.from_env({"DB_POOL_MAX_CONNECTIONS": "7", "DB_POOL_TIMEOUT": "1.5"})
    assert config.DB_POOL_MAX_CONNECTIONS == 7 and config.DB_POOL_TIMEOUT == 1.5


def test_bad_number_is_a_config_error():
    with pytest.raises(ConfigError, match="DB_POOL_MAX_CONNECTIONS"):
        Config.from_env({"DB_POOL_MAX_CONNECTIONS": "many"})


def test_good_production_config_validates():
    assert Config.from_env(PROD).validate().is_production


@pytest.mark.parametrize("change, reason", [
    ({"DATABASE_URL": ""}, "DATABASE_URL"),
    ({"JWT_SECRET_KEY": ""}, "needs JWT_SECRET_KEY"),
    ({"JWT_SECRET_KEY": "short-secret"}, "at least 32"),
    ({"JWT_SECRET_KEY": "development-secret-key-not-for-production-use-0000"}, "known default"),
    ({"JWT_SECRET_KEY": "change-me"}, "known default"),
])
def test_production_refuses_unsafe_settings(change, reason):
    with pytest.raises(ConfigError, match=reason):
        Config.from_env(dict(PROD, **change)).validate()


def test_pool_bounds_are_checked():
    with pytest.raises(ConfigError, match="DB_POOL_MAX_CONNECTIONS"):
        Config.from_env({"DB_POOL_MIN_CONNECTIONS": "5", "DB_POOL_MAX_CONNECTIONS": "2"}).validate()


def test_create_app_refuses_weak_production_secret(monkeypatch):
    with pytest.raises(ConfigError, match="at least 32"):
        create_app(dict(PROD, JWT_SECRET_KEY="tiny"))


@pytest.mark.multiprocess
def test_boot_refuses_in_one_line():
    env = {"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x",
           "JWT_SECRET_KEY": "short", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "apps.api.tools.boot"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("refusing to start: JWT_SECRET_KEY")


def test_development_reads_env_dev_without_changing_the_process_environment(monkeypatch):
    from tests.support.apps import NO_DATABASE, app_config

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setenv("CACHE_MAX_ENTRIES", "77")  # set values win over .env.dev's
    before = dict(os.environ)
    app = create_app(app_config(NO_DATABASE))
    assert dict(os.environ) == before
    assert app.config["WEB_CONCURRENCY"] == 2 and app.config["CACHE_MAX_ENTRIES"] == 77  # .env.dev, environment
    assert environment({"APP_ENV": "test"}) == {"APP_ENV": "test"}  # .env.dev only in development


def test_the_connection_budget_counts_gunicorns_default_workers_when_unset():
    from apps.api.resources.health import _recommend

    stats = {"pool_max": 10, "requests_num": 0, "requests_queued": 0, "requests_errors": 0, "leaks_detected": 0,
             "connections_lost": 0, "requests_wait_max_ms": 0}
    config = Config().as_flask_config()
    advice = _recommend(stats, {"max_connections": 10, "reserved_connections": 0}, config)
    assert f"{default_workers()} workers x (pool max 10" in " ".join(advice)
    config["WEB_CONCURRENCY"] = 3
    assert "3 workers x (pool max 10 + 1 probe + 1 listener) = 36" in " ".join(
        _recommend(stats, {"max_connections": 10, "reserved_connections": 0}, config))


def test_production_refuses_flask_debug_read_through_config():
    with pytest.raises(ConfigError, match="FLASK_DEBUG"):
        Config.from_env(dict(PROD, FLASK_DEBUG="1")).validate()


def test_an_unknown_setting_is_a_config_error():
    """A misspelled override is refused by name, not silently dropped."""
    with pytest.raises(ConfigError, match="unknown setting: DB_POOL_MAX_CONECTIONS"):
        create_app({"APP_ENV": "test", "DB_POOL_MAX_CONECTIONS": 3})
    assert Config().with_overrides({"DB_POOL_MAX_CONNECTIONS": 3}).DB_POOL_MAX_CONNECTIONS == 3
