"""The edge, fourth pass: proxies no wider than a proxy's range in production, and only trusted Host names served."""
import secrets

import pytest

from apps.api.config import Config, ConfigError
from tests.support.apps import NO_DATABASE, build_app

PROD = {"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@db/app",
        "JWT_SECRET_KEY": secrets.token_urlsafe(32), "METRICS_TOKEN": secrets.token_urlsafe(32),
        "TRUSTED_HOSTS": "printshop.example"}


@pytest.mark.parametrize("allowed", ["0.0.0.0/1,128.0.0.0/1", "::/1,8000::/1", "*", "203.0.112.0/23",
                                     "2001:db8::/47", "10.0.0.1, 8.0.0.0/8"])
def test_production_refuses_a_proxy_range_that_holds_clients(allowed):
    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS") as caught:
        Config.from_env(dict(PROD, FORWARDED_ALLOW_IPS=allowed)).validate()
    assert "production refuses" in str(caught.value)
    assert Config.from_env({"APP_ENV": "development", "FORWARDED_ALLOW_IPS": allowed}).validate()


@pytest.mark.parametrize("allowed", ["10.0.0.0/8,172.16.0.0/12,192.168.0.0/16", "127.0.0.1, ::1",
                                     "169.254.0.0/16, fe80::/10", "fd00::/8", "203.0.113.0/24",
                                     "2001:db8:1::/48", "198.51.100.7"])
def test_production_accepts_private_space_and_narrow_public_ranges(allowed):
    assert Config.from_env(dict(PROD, FORWARDED_ALLOW_IPS=allowed)).validate()


def test_production_needs_trusted_hosts():
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS"):
        Config.from_env(dict(PROD, TRUSTED_HOSTS="")).validate()
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS"):
        Config.from_env(dict(PROD, TRUSTED_HOSTS=" , ")).validate()


@pytest.fixture(scope="module")
def local_client():
    app = build_app(NO_DATABASE, BIND="192.0.2.10")
    return app.test_client()


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1:8000", "[::1]:5000", "192.0.2.10:5000"])
def test_development_serves_local_names_and_the_bound_address(local_client, host):
    assert local_client.get("/api/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("path", ["/api/health", "/metrics", "/api/jobs/", "/", "/api/auth/login", "/nowhere"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "[::2]:5000", "localhost.evil.example"])
def test_another_host_is_a_400_problem_on_every_path_and_never_redirected(local_client, path, host):
    answer = local_client.get(path, headers={"Host": host})
    assert answer.status_code == 400, (path, host)
    assert answer.content_type == "application/problem+json"
    assert "Location" not in answer.headers and "evil" not in answer.get_data(as_text=True).replace(host, "")


def test_a_redirect_names_only_a_trusted_host(local_client):
    answer = local_client.get("/api/jobs/", headers={"Host": "localhost:5000"})
    location = answer.headers.get("Location", "")
    assert answer.status_code != 308 or location.startswith(("/", "http://localhost:5000/"))


def test_production_serves_only_its_trusted_hosts():
    app = build_app(NO_DATABASE, APP_ENV="production", JWT_SECRET_KEY=PROD["JWT_SECRET_KEY"],
                    METRICS_TOKEN=PROD["METRICS_TOKEN"], TRUSTED_HOSTS="printshop.example, .lb.internal")
    client = app.test_client()
    assert client.get("/api/health", headers={"Host": "printshop.example"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "probe.lb.internal:8080"}).status_code == 200
    assert client.get("/api/health", headers={"Host": "localhost"}).status_code == 400
