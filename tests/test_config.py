"""Configuration: read from the environment, refused in production when unsafe."""
import secrets
import subprocess
import sys

import pytest

from apps.api import create_app
from apps.api.config import Config, ConfigError

GOOD_SECRET = secrets.token_urlsafe(32)
PROD = {"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@db/app", "JWT_SECRET_KEY": GOOD_SECRET,
        "METRICS_TOKEN": secrets.token_urlsafe(32)}


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


def test_boot_refuses_in_one_line():
    env = {"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x",
           "JWT_SECRET_KEY": "short", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "apps.api.tools.boot"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("refusing to start: JWT_SECRET_KEY")
