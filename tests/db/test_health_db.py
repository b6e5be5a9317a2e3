"""GET /api/health/db, /api/health/db/test and readiness, and the pool as requests see it (503, waiting)."""
import threading
import time

import pytest

from apps.api.db import get_pool
from apps.api.resources.health import _judge
from tests.support.auth import AuthActions
from tests.support.pools import EXTRA_STATS, PSYCOPG_POOL_STATS
from tests.support.waiting import eventually

CONTRACT_KEYS = {"min_connections", "max_connections", "available", "in_use", "total"}


@pytest.fixture
def make_app(database_url, new_app):
    """Build an app with its own pool settings; return (app, client, viewer headers)."""
    def make(**overrides):
        app = new_app(database_url, **overrides)
        return app, app.test_client(), AuthActions(app, database_url).headers("viewer")

    return make


def test_db_health_needs_a_token(client):
    response = client.get("/api/health/db")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert client.get("/api/health/db/test").status_code == 401


def test_db_health_reports_the_contract_keys_and_every_statistic(client, auth):
    response = client.get("/api/health/db", headers=auth.headers("viewer"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy" and body["warnings"] == [] and body["recommendations"] == []
    stats = body["pool_stats"]
    assert CONTRACT_KEYS | set(PSYCOPG_POOL_STATS + EXTRA_STATS) - {"pid"} <= set(stats)
    assert "pid" not in stats  # pids are for admins (issue 27)
    assert stats["max_connections"] == stats["pool_max"] == 5 and stats["min_connections"] == 1
    assert stats["in_use"] == 0 and stats["total"] == stats["available"] + stats["in_use"]
    assert body["server"] == {}  # the server's version and limits are for admins (issue 20)
    admin_view = client.get("/api/health/db", headers=auth.headers("admin")).get_json()
    server = admin_view["server"]
    assert "pid" in admin_view["pool_stats"]
    assert server["server_version"].startswith("18") and server["max_connections"] > 0


def test_recommends_a_bigger_pool_than_threads_per_worker(make_app):
    _, client, headers = make_app(GUNICORN_THREADS=16)
    body = client.get("/api/health/db", headers=headers).get_json()
    assert any("pool max 5 < 16 threads per worker" in advice and "DB_POOL_MAX_CONNECTIONS" in advice
               for advice in body["recommendations"])


def test_recommends_fewer_connections_than_the_server_allows(make_app, database_url):
    app, client, _ = make_app(WEB_CONCURRENCY=100)
    auth = AuthActions(app, database_url)
    body = client.get("/api/health/db", headers=auth.headers("admin")).get_json()
    assert any("100 workers x (pool max 5 + 1 probe + 1 listener) = 700 connections" in advice
               for advice in body["recommendations"])
    # It names the server's limit: admins only (issue 20).
    body = client.get("/api/health/db", headers=auth.headers("viewer")).get_json()
    assert not any("connections >" in advice for advice in body["recommendations"])


def test_degraded_when_most_connections_are_in_use_or_requests_wait(make_app):
    app, client, headers = make_app(DB_POOL_MAX_CONNECTIONS=6, DB_POOL_TIMEOUT=5)
    assert client.get("/api/health/db", headers=headers).status_code == 200  # opens the pool
    pool = get_pool(app)
    held = [pool.getconn() for _ in range(5)]
    body = client.get("/api/health/db", headers=headers).get_json()  # the token check takes the sixth
    assert body["status"] == "degraded" and any("5 of 6 connections in use" in w for w in body["warnings"])
    assert body["pool_stats"]["in_use"] == 5
    held.append(pool.getconn())
    waiter = threading.Thread(target=lambda: pool.putconn(pool.getconn()))
    waiter.start()
    assert eventually(lambda: pool.stats()["requests_waiting"] == 1)
    # Judged from the stats: over HTTP, the token check would queue behind the waiter.
    status, warnings = _judge(pool.stats(), {}, [])
    assert status == "degraded" and any("1 requests wait" in w for w in warnings)
    for conn in held:
        pool.putconn(conn)
    waiter.join(5)
    assert pool.stats()["pool_in_use"] == 0


def test_judgement_is_unhealthy_when_no_connection_can_be_had(client, app):
    get_pool(app)
    stats = get_pool(app).stats()
    assert _judge(stats, {"error": "OperationalError"}, [])[0] == "unhealthy"
    exhausted = dict(stats, pool_in_use=stats["pool_max"], requests_waiting=3, errors_recent=2)
    status, warnings = _judge(exhausted, {"server_version": "18"}, [])
    assert status == "unhealthy" and any("lent out" in w for w in warnings)
    status, warnings = _judge(stats, {}, [{"where": "x.py:3", "thread": "t", "held_s": 12.0}])
    assert status == "degraded" and "x.py:3" in warnings[0]


def test_db_test_runs_a_real_round_trip(client, auth):
    headers = auth.headers("viewer")
    started = time.perf_counter()
    response = client.get("/api/health/db/test", headers=headers)
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["server_version"].startswith("18")
    # Both are parts of this request's own time, in milliseconds; the round trip takes some.
    assert body["query_ms"] > 0 and body["acquire_ms"] >= 0
    assert body["acquire_ms"] + body["query_ms"] <= elapsed_ms


def test_exhausted_pool_answers_503_with_retry_after_then_recovers_without_a_leak(make_app):
    app, client, headers = make_app(DB_POOL_MAX_CONNECTIONS=2, DB_POOL_TIMEOUT=0.2)
    pool = get_pool(app)
    held = [pool.getconn(), pool.getconn()]
    for path in ("/api/auth/me", "/api/health/db/test"):
        response = client.get(path, headers=headers)
        assert response.status_code == 503 and response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"] and response.get_json()["status"] == 503
    for conn in held:
        pool.putconn(conn)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert client.get("/api/health/db/test", headers=headers).status_code == 200
    stats = pool.stats()
    assert stats["pool_in_use"] == 0 and stats["pool_available"] == stats["pool_size"]
    assert stats["requests_errors"] >= 2


def test_a_request_waits_for_a_connection_then_succeeds(make_app):
    app, client, headers = make_app(DB_POOL_MAX_CONNECTIONS=1, DB_POOL_TIMEOUT=5)
    pool = get_pool(app)
    conn = pool.getconn()
    answers = []
    thread = threading.Thread(target=lambda: answers.append(client.get("/api/auth/me", headers=headers)))
    thread.start()
    assert eventually(lambda: pool.stats()["requests_waiting"] == 1)
    time.sleep(0.05)
    pool.putconn(conn)
    thread.join(5)
    assert answers[0].status_code == 200 and answers[0].get_json()["username"] == "viewer"
    assert pool.stats()["requests_queued"] >= 1 and pool.stats()["pool_in_use"] == 0


def test_readiness_takes_no_slot_that_requests_need(make_app):
    app, client, _ = make_app(DB_POOL_MAX_CONNECTIONS=1, DB_POOL_TIMEOUT=0.2)
    pool = get_pool(app)
    conn = pool.getconn()
    before = pool.stats()["requests_num"]
    response = client.get("/api/health/ready")
    assert response.status_code == 200 and response.get_json() == {"status": "ready"}
    assert pool.stats()["requests_num"] == before and pool.stats()["requests_errors"] == 0
    pool.putconn(conn)


def test_openapi_documents_the_db_health_routes(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "/api/health/db" in paths and "/api/health/db/test" in paths
    assert paths["/api/health/db"]["get"]["x-required-role"] == "viewer"
