"""Request ids, Server-Timing, gzip, rate limits and /metrics, in one process."""
import gzip
import json
import logging
import os
import random
import re
import string
import time

import pytest

from apps.api import create_app
from apps.api.ops.logs import JsonFormatter
from tests.support.apps import app_config
from tests.support.waiting import eventually


def test_request_id_is_generated_and_echoed(client):
    generated = [client.get("/api/health").headers["X-Request-ID"] for _ in range(2)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in generated)
    assert generated[0] != generated[1]
    echoed = client.get("/api/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
    assert echoed == "abc-123"
    # A hostile id (a line separator; longer than 128 characters) is replaced by a fresh one, not logged.
    for hostile in ("x\u2028y", "y" * 129):
        replaced = client.get("/api/health", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", replaced) and replaced not in generated, (hostile, replaced)


def test_server_timing_reports_db_time(client, auth):
    header = client.get("/api/auth/me", headers=auth.headers("viewer")).headers["Server-Timing"]
    parts = dict(part.strip().split(";dur=") for part in header.split(","))
    assert set(parts) == {"db", "cache", "total"}
    assert float(parts["db"]) > 0 and float(parts["total"]) >= float(parts["db"])


def test_request_log_line_is_json_with_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="apps.api.request")
    started = time.perf_counter()
    client.get("/api/health", headers={"X-Request-ID": "req-42"})
    elapsed_ms = (time.perf_counter() - started) * 1000
    record = [r for r in caplog.records if r.name == "apps.api.request"][-1]
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "/api/health" and line["status"] == 200 and line["method"] == "GET"
    assert 0 < line["duration_ms"] <= elapsed_ms  # the request's own time, in milliseconds


def test_slow_request_is_a_warning(database_url, caplog, new_app):
    app = new_app(database_url, SLOW_REQUEST_MS=0)
    caplog.set_level(logging.INFO, logger="apps.api.request")
    app.test_client().get("/api/health")
    assert [r.levelname for r in caplog.records if r.name == "apps.api.request"] == ["WARNING"]


def test_login_password_is_never_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/api/auth/login", json={"username": "admin", "password": "sup3r-s3cret-pw"})
    assert "sup3r-s3cret-pw" not in caplog.text


def test_large_json_is_gzipped_when_accepted(client):
    plain = client.get("/api/openapi.json")
    assert "Content-Encoding" not in plain.headers and len(plain.data) > 1024
    zipped = client.get("/api/openapi.json", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    small = client.get("/api/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers


def test_login_is_rate_limited_per_username(database_url, new_app):
    app = new_app(database_url, RATE_LIMIT_LOGIN_USER="3/300")
    client = app.test_client()
    statuses = [client.post("/api/auth/login", json={"username": "Admin", "password": "wrong"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    response = client.post("/api/auth/login", json={"username": "admin", "password": "demo"})
    assert response.status_code == 429, "the correct password does not bypass the limit"
    assert 1 <= int(response.headers["Retry-After"]) <= 300
    assert response.mimetype == "application/problem+json"
    other = client.post("/api/auth/login", json={"username": "viewer", "password": "demo"})
    assert other.status_code == 200


def test_login_is_rate_limited_per_ip(database_url, new_app):
    app = new_app(database_url, RATE_LIMIT_LOGIN_IP="2/60")
    client = app.test_client()
    statuses = [client.post("/api/auth/login", json={"username": f"u{i}", "password": "x"}).status_code
                for i in range(3)]
    assert statuses == [401, 401, 429]


def test_metrics_from_loopback_without_token(client):
    client.get("/api/health")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert 'http_requests_total{method="GET",route="/api/health",status="200"}' in response.get_data(as_text=True)


def test_metrics_need_the_token_when_set(database_url, new_app):
    client = new_app(database_url, METRICS_TOKEN="m" * 32).test_client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32}).status_code == 200


def test_metrics_refuse_remote_clients_without_token(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403


@pytest.mark.parametrize("value", ["10", "ten/60", "0/60"])
def test_bad_rate_limit_setting_is_refused(database_url, value):
    from apps.api.config import ConfigError

    with pytest.raises(ConfigError, match="RATE_LIMIT_LOGIN_IP"):
        create_app(app_config(database_url, RATE_LIMIT_LOGIN_IP=value))


def test_import_and_lists_are_rate_limited_per_user(database_url, auth, new_app):
    app = new_app(database_url, RATE_LIMIT_IMPORT="1/60", RATE_LIMIT_LISTS="2/60")
    client = app.test_client()
    manager = auth.headers("manager")
    body = {"customers": [{"name": "A", "email": "a@example.com"}]}
    assert client.post("/api/customers/import", json=body, headers=manager).status_code == 200
    assert client.post("/api/customers/import", json=body, headers=manager).status_code == 429
    assert [client.get("/api/jobs", headers=manager).status_code for _ in range(3)] == [200, 200, 429]
    # Another user has a budget of their own.
    assert client.get("/api/jobs", headers=auth.headers("viewer")).status_code == 200


def test_unpooled_mode_connects_per_request_and_keeps_nothing_open(database_url, auth, db, new_app):
    from apps.api import db as app_db

    app = new_app(database_url, DB_POOL_MODE="none")
    client = app.test_client()

    def sessions():
        """Count this process's API connections (a closed one leaves pg_stat_activity a moment later)."""
        with db.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name = %s", (f"printshop:pool:{os.getpid()}",))
            return cur.fetchone()[0]

    assert eventually(lambda: sessions() == 0), "connections of earlier tests' pools are still open"
    for _ in range(3):
        assert client.get("/api/auth/me", headers=auth.headers("viewer")).status_code == 200
    assert app_db.pool_stats(app) is None
    assert eventually(lambda: sessions() == 0), "a per-request connection stayed open"


def test_unknown_pool_mode_is_refused(database_url):
    from apps.api.config import ConfigError

    with pytest.raises(ConfigError, match="DB_POOL_MODE"):
        create_app(app_config(database_url, DB_POOL_MODE="sometimes"))


def test_metrics_carry_pool_and_cache_statistics(client, auth):
    headers = auth.headers("operator1")
    client.get("/api/dashboard/stats", headers=headers)
    client.get("/api/dashboard/stats", headers=headers)
    text = client.get("/metrics").get_data(as_text=True)
    values = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    assert values['cache{stat="hits"}'] >= 1 and values['cache{stat="misses"}'] >= 1
    assert values['cache{stat="total_entries"}'] >= 1
    assert values['db_pool{stat="requests_num"}'] >= 1
    assert "cache_listener_reconnects" in values


def _series(text, metric):
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line.startswith(metric + "{")}


def test_made_up_methods_and_paths_do_not_grow_the_metrics(client):
    client.get("/metrics")  # the scrape's own series exist before counting
    before = client.get("/metrics").get_data(as_text=True)
    rng = random.Random(22)
    methods = {"".join(rng.choices(string.ascii_uppercase, k=12)) for _ in range(300)}
    for number, method in enumerate(methods):
        path = "/api/health" if number % 2 else f"/no/such/path/{number}"
        assert client.open(path, method=method).status_code in (404, 405)
    after = client.get("/metrics").get_data(as_text=True)
    grown = set()
    for metric in ("http_requests_total", "http_request_duration_seconds_count"):
        grown |= _series(after, metric) - _series(before, metric)
    # At most the fixed labels of a refused request: method "other", route "unmatched", status 404 or 405.
    assert grown <= {'http_requests_total{method="other",route="unmatched",status="404"}',
                     'http_requests_total{method="other",route="unmatched",status="405"}',
                     'http_request_duration_seconds_count{method="other",route="unmatched"}'}, sorted(grown)[:5]
    assert not any(method in after for method in methods)
