"""Trust boundaries fail closed: no repository secret signs tokens, proxies are trusted only by address,
metrics need a real token in production, and rate limits group IPv6 clients by /64 (issue 12)."""
import secrets
import stat

import pytest

from apps.api import create_app
from apps.api.config import PROJECT_ROOT, Config, ConfigError
from tests.support.apps import app_config
from tests.support.auth import DEMO_PASSWORD
from tests.support.tokens import claims_for, signed

OLD_DEV_SECRET = "development-secret-key-not-for-production-use-0000"  # what .env.dev held on main
GOOD = secrets.token_urlsafe(32)
PROD = {"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@db/app", "JWT_SECRET_KEY": GOOD,
        "METRICS_TOKEN": secrets.token_urlsafe(32), "TRUSTED_HOSTS": "printshop.example"}


def test_env_dev_holds_no_secret():
    assert "JWT_SECRET_KEY" not in "".join(line.split("#")[0] for line in
                                            (PROJECT_ROOT / ".env.dev").read_text().splitlines())


@pytest.mark.parametrize("env", ["development", "test", "production"])
def test_the_secret_once_committed_is_refused_in_every_environment(database_url, env):
    with pytest.raises(ConfigError, match="known default"):
        create_app(app_config(database_url, APP_ENV=env, JWT_SECRET_KEY=OLD_DEV_SECRET))


def test_development_generates_its_secret_in_data_dir_for_every_worker(database_url, tmp_path, auth, new_app):
    settings = dict(APP_ENV="development", JWT_SECRET_KEY="", DATA_DIR=str(tmp_path))
    first, second = new_app(database_url, **settings), new_app(database_url, **settings)
    path = tmp_path / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.config["JWT_SECRET_KEY"] == second.config["JWT_SECRET_KEY"] == path.read_text().strip()
    assert len(first.config["JWT_SECRET_KEY"]) >= 43
    # A token one "worker" signed is good in the other; one signed with the old committed secret is not.
    sid = auth.start_session("admin")[0]
    claims = claims_for(auth.user_id("admin"), "admin", sid=sid)
    good = signed(claims, key=first.config["JWT_SECRET_KEY"])
    assert second.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    forged = signed(claims, key=OLD_DEV_SECRET)
    assert second.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_secret_file_others_can_read_is_refused(database_url, tmp_path):
    (tmp_path / "jwt-secret").write_text("y" * 48)
    (tmp_path / "jwt-secret").chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        create_app(app_config(database_url, APP_ENV="development", JWT_SECRET_KEY="", DATA_DIR=str(tmp_path)))


@pytest.mark.parametrize("token, reason", [("", "needs METRICS_TOKEN"), ("short", "at least 32"),
                                           ("<at-least-32-random-bytes>", "placeholder"),
                                           ("<random-token-for-prometheus>", "placeholder")])
def test_production_refuses_a_missing_short_or_placeholder_metrics_token(token, reason):
    with pytest.raises(ConfigError, match=reason):
        Config.from_env(dict(PROD, METRICS_TOKEN=token)).validate()
    assert Config.from_env(PROD).validate().is_production


def test_the_removed_proxy_count_setting_is_refused_not_ignored():
    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS"):
        Config.from_env({"TRUSTED_PROXY_COUNT": "1"})
    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS"):
        Config.from_env({"FORWARDED_ALLOW_IPS": "10.0.0.1/8"}).validate()  # host bits set: a typo


def _login(client, peer, forwarded_for=None, username="nobody"):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/auth/login", json={"username": username, "password": "guess"}, headers=headers,
                       environ_base={"REMOTE_ADDR": peer})


def _failed_login_ips(db):
    with db.cursor() as cur:
        cur.execute("SELECT host(ip) FROM failed_logins ORDER BY id")
        return [row[0] for row in cur.fetchall()]


def test_forwarded_for_counts_only_from_the_listed_proxies(database_url, db, new_app):
    client = new_app(database_url, RATE_LIMIT_LOGIN_IP="5/60",
                                   FORWARDED_ALLOW_IPS="10.0.0.0/24, 192.0.2.1").test_client()
    # A client talking to us directly, rotating the header (main with TRUSTED_PROXY_COUNT=1: never limited).
    statuses = [_login(client, "203.0.113.5", f"198.51.100.{n}").status_code for n in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    assert set(_failed_login_ips(db)) == {"203.0.113.5"}  # its own address, not the forged ones
    # Through a listed proxy (behind another listed one): the rightmost unlisted address is the client.
    assert _login(client, "10.0.0.7", "6.6.6.6, 198.51.100.20, 192.0.2.1").status_code == 401
    assert _failed_login_ips(db)[-1] == "198.51.100.20"


def test_ipv6_clients_share_a_limit_per_64(database_url, new_app):
    client = new_app(database_url, RATE_LIMIT_LOGIN_IP="3/60").test_client()
    same_64 = [_login(client, f"2001:db8:1:2::{n:x}").status_code for n in range(1, 6)]
    assert same_64 == [401, 401, 401, 429, 429]
    assert _login(client, "2001:db8:1:3::1").status_code == 401  # the next /64 is someone else


def test_metrics_never_take_loopback_from_a_forwarded_header(database_url, new_app):
    client = new_app(database_url, FORWARDED_ALLOW_IPS="127.0.0.1,10.0.0.1").test_client()
    forged = {"X-Forwarded-For": "127.0.0.1"}
    assert client.get("/metrics", headers=forged, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", headers=forged, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics").status_code == 200  # the control: loopback itself, no proxy involved


def test_a_direct_client_cannot_claim_https(database_url, new_app):
    client = new_app(database_url, FORWARDED_ALLOW_IPS="10.0.0.1").test_client()
    app = client.application

    @app.get("/_scheme")
    def _scheme():
        from flask import request
        return {"scheme": request.scheme, "ip": request.remote_addr}

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"}
    direct = client.get("/_scheme", headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.1"}).get_json()
    assert direct == {"scheme": "http", "ip": "203.0.113.1"}
    proxied = client.get("/_scheme", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_json()
    assert proxied == {"scheme": "https", "ip": "198.51.100.1"}


def test_login_with_the_demo_password_still_works(client):
    assert client.post("/api/auth/login", json={"username": "viewer", "password": DEMO_PASSWORD}).status_code == 200
