"""Settings fail closed (issue 20): secrets must look random, production trusts listed proxies only, the
development secret is trusted only when this user wrote it, and `make run` on a database of one's own
needs APP_ENV said out loud."""
import os
import secrets
import signal
import subprocess
import sys

import psycopg2
import pytest

from apps.api.config import PROJECT_ROOT, Config, ConfigError
from apps.api.dev_secret import dev_secret

PROD = {"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@db/app",
        "JWT_SECRET_KEY": secrets.token_urlsafe(32), "METRICS_TOKEN": secrets.token_urlsafe(32),
        "TRUSTED_HOSTS": "printshop.example"}
NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's file needs root")


@pytest.mark.parametrize("secret", ["a" * 32, " " * 32, " " * 20 + secrets.token_hex(6), "ab" * 20,
                                    "abcdefgh" * 4, "0123456" * 6],
                         ids=["a*32", "spaces", "spaces+hex", "ab*20", "abcdefgh*4", "0123456*6"])
@pytest.mark.parametrize("name", ["JWT_SECRET_KEY", "METRICS_TOKEN"])
def test_long_but_regular_secrets_are_refused(name, secret):
    with pytest.raises(ConfigError, match=name):
        Config.from_env(dict(PROD, **{name: secret})).validate()


@pytest.mark.parametrize("secret", [secrets.token_hex(16), secrets.token_urlsafe(32), secrets.token_urlsafe(48)],
                         ids=["hex16", "urlsafe32", "urlsafe48"])  # names that parallel workers agree on
def test_random_secrets_pass(secret):
    assert Config.from_env(dict(PROD, JWT_SECRET_KEY=secret, METRICS_TOKEN=secret)).validate()


def test_a_regular_jwt_secret_is_refused_outside_production_too():
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        Config.from_env({"APP_ENV": "development", "JWT_SECRET_KEY": "a" * 40}).validate()


@pytest.mark.parametrize("allowed", ["*", "0.0.0.0/0", "10.0.0.1, ::/0"])
def test_production_refuses_to_trust_every_peer_as_a_proxy(allowed):
    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS"):
        Config.from_env(dict(PROD, FORWARDED_ALLOW_IPS=allowed)).validate()
    assert Config.from_env(dict(PROD, FORWARDED_ALLOW_IPS="10.0.0.0/8, fd00::1")).validate()
    assert Config.from_env({"APP_ENV": "development", "FORWARDED_ALLOW_IPS": allowed}).validate()


@as_root
def test_a_secret_file_planted_by_another_user_is_refused(tmp_path):
    planted = tmp_path / "jwt-secret"
    planted.write_text(secrets.token_urlsafe(48))
    planted.chmod(0o600)
    os.chown(planted, NOBODY, NOBODY)
    with pytest.raises(ConfigError, match="belongs to user"):
        dev_secret(tmp_path)


@as_root
def test_a_data_dir_of_another_user_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    os.chown(data_dir, NOBODY, NOBODY)
    with pytest.raises(ConfigError, match="belongs to user"):
        dev_secret(data_dir)


def test_a_data_dir_others_can_write_is_refused(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o777)
    with pytest.raises(ConfigError, match="writable by others"):
        dev_secret(data_dir)
    assert not (data_dir / "jwt-secret").exists()


def test_a_link_in_place_of_the_secret_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text(secrets.token_urlsafe(48))
    elsewhere.chmod(0o600)
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "jwt-secret").symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="plain file"):
        dev_secret(data_dir)


def test_the_generated_secret_is_kept_and_reused(tmp_path):
    first = dev_secret(tmp_path / "data")
    assert dev_secret(tmp_path / "data") == first and len(first) >= 43
    assert oct((tmp_path / "data" / "jwt-secret").stat().st_mode & 0o777) == "0o600"


def _tables(url):
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_make_run_on_a_database_of_ones_own_needs_app_env_said(empty_database_url, tmp_path):
    env = {"DATABASE_URL": empty_database_url, "JWT_SECRET_KEY": secrets.token_urlsafe(48),
           "METRICS_TOKEN": secrets.token_urlsafe(48), "DATA_DIR": str(tmp_path), "PATH": os.environ["PATH"]}
    # A session of its own: should it go on to serve, gunicorn goes down with it.
    boot = subprocess.Popen([sys.executable, "-m", "apps.api.tools.boot"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = boot.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # it went on to seed and serve
        os.killpg(boot.pid, signal.SIGKILL)
        boot.communicate()
        pytest.fail("make run served a database of one's own without APP_ENV")
    assert boot.returncode != 0
    assert stderr.strip().splitlines()[-1].startswith("refusing to start: DATABASE_URL is set but APP_ENV")
    assert _tables(empty_database_url) == 0  # nothing migrated, no demo users
