"""The primary stops for real (embedded PostgreSQL with a streaming standby): the circuit breaker fails
requests that need it at once, reads go on from the standby, writes resume when it is back.

Figures (p99 of a refusal while down, time to recover) are printed with `pytest -s`; the assertions
are about behaviour: no connection attempt while the breaker is open, 503 problem+json with
Retry-After, nothing written twice.
"""
import time

import psycopg2
import pytest

from apps.api import db, open_resources
from apps.api.db import PrimaryUnavailable, breaker
from apps.api.db.pool import CHECK_IDLE_AFTER, ConnectionPool
from tests.support.auth import AuthActions
from tests.support.load import print_report
from tests.support.private_pg import primary_with_standby
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def primary_and_standby():
    with primary_with_standby("printshop-primary-down-") as servers:
        yield servers


@pytest.fixture
def primary(primary_and_standby):
    """The primary, started again after the test whatever happened."""
    server, _ = primary_and_standby
    yield server
    server.start()


def percentile(samples, rank):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, -(-rank * len(ordered) // 100) - 1)]


def test_the_breaker_opens_on_a_failed_connect_refuses_without_trying_and_closes_when_it_answers(primary):
    pool = ConnectionPool(primary.url, min_size=0, max_size=2, timeout=5.0, breaker=True)
    try:
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        primary.stop()
        time.sleep(CHECK_IDLE_AFTER + 0.1)  # the idle connection is checked, found dead, and replaced
        with pytest.raises(PrimaryUnavailable):
            pool.getconn()  # the connect fails: the breaker opens, no retry until the pool's timeout
        assert pool.breaker.is_open and pool.breaker.trips == 1
        attempts = pool.stats()["connections_num"]
        refusals = []
        for _ in range(300):
            started = time.perf_counter()
            with pytest.raises(PrimaryUnavailable):
                pool.getconn()
            refusals.append((time.perf_counter() - started) * 1000)
        assert pool.stats()["connections_num"] == attempts  # refused without a connection attempt
        primary.start()
        back_at = time.monotonic()
        assert eventually(lambda: not pool.breaker.is_open, timeout=15, step=0.01), pool.breaker.stats()
        recovered_s = time.monotonic() - back_at
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        assert pool.breaker.stats()["state"] == "closed"
        print_report("breaker", {"refusal_p50_ms": round(percentile(refusals, 50), 3),
                                 "refusal_p99_ms": round(percentile(refusals, 99), 3),
                                 "closed_after_restart_s": round(recovered_s, 3)})
    finally:
        pool.close()


def test_a_restart_faster_than_a_second_never_opens_the_breaker(primary, monkeypatch):
    """A failed connect only makes the primary suspect: back within OPEN_AFTER_SECONDS, nothing failed fast.
    (Made 30 s here, so that a slow restart on a loaded machine cannot outlast it.)"""
    monkeypatch.setattr(breaker, "OPEN_AFTER_SECONDS", 30.0)
    pool = ConnectionPool(primary.url, min_size=0, max_size=1, timeout=0.3, breaker=True)
    try:
        primary.stop()
        with pytest.raises(db.PoolTimeout):  # tried until the pool's timeout, not refused at once
            pool.getconn()
        assert pool.breaker.state == "suspect"
        primary.start()
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        assert eventually(lambda: pool.breaker.state == "closed", timeout=5) and pool.breaker.trips == 0
    finally:
        pool.close()


def test_a_pool_without_a_breaker_keeps_trying_until_its_timeout(primary):
    """The replicas' pools and hand-made ones have no breaker: the behaviour the breaker changes."""
    pool = ConnectionPool(primary.url, min_size=0, max_size=1, timeout=0.4)
    try:
        primary.stop()
        with pytest.raises(db.PoolTimeout):
            pool.getconn()
        assert pool.stats()["connections_errors"] >= 2 and pool.breaker is None  # it tried again
    finally:
        pool.close()


def test_reads_go_on_from_the_standby_and_writes_answer_503_until_the_primary_is_back(
        primary_and_standby, primary, new_app):
    _, standby = primary_and_standby
    app = new_app(primary.url, DATABASE_REPLICA_URLS=standby.url("postgres"), RATE_LIMITS_ENABLED=True,
                  RATE_LIMIT_LISTS="5/60")
    open_resources(app)
    client, auth = app.test_client(), AuthActions(app, primary.url)
    viewer, manager = auth.headers("viewer"), auth.headers("manager")
    created = client.post("/api/customers", json={"name": "Before the stop"}, headers=manager)
    assert created.status_code == 201
    assert eventually(lambda: db.database(app).databases()[1]["state"] == "in_rotation", timeout=10)

    primary.stop()
    # The first request that needs the primary finds it gone and opens the breaker.
    first = client.post("/api/customers", json={"name": "While down"}, headers=manager)
    assert first.status_code == 503
    assert eventually(lambda: db.read_only(app), timeout=5)

    answers = {path: client.get(path, headers=viewer) for path in
               ("/api/customers?per_page=5", f"/api/customers/{created.json['id']}", "/api/jobs?per_page=5",
                "/api/auth/me", "/api/dashboard/stats")}
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(answers, 200)
    refused = client.post("/api/customers", json={"name": "While down"}, headers=manager)
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] and "reads only" in refused.json["detail"]
    assert client.get("/api/health/ready").json == {"status": "read_only"}
    health = client.get("/api/health/db", headers=viewer).json
    assert health["status"] == "read_only" and health["databases"][0]["state"] == "down"
    assert health["databases"][0]["breaker"]["state"] in ("open", "half_open")
    # Rate limits kept in the primary fall back to this worker's own count (5 lists a minute here).
    statuses = [client.get("/api/customers", headers=viewer).status_code for _ in range(6)]
    assert 429 in statuses and set(statuses) <= {200, 429}

    primary.start()
    back_at = time.monotonic()

    def written():
        answer = client.post("/api/customers", json={"name": "After the restart"}, headers=manager)
        return answer if answer.status_code == 201 else None

    assert eventually(written, timeout=15, step=0.05)
    print_report("writes after the primary's return", {"resumed_after_s": round(time.monotonic() - back_at, 3)})
    assert client.get("/api/health/ready").json == {"status": "ready"}
    rows = primary.execute("SELECT name, count(*) FROM customers WHERE name IN "
                           "('Before the stop', 'While down', 'After the restart') GROUP BY name ORDER BY name")
    assert rows == [("After the restart", 1), ("Before the stop", 1)]  # nothing lost, nothing twice


def test_without_a_standby_every_request_that_needs_the_database_answers_503_at_once(primary, new_app):
    app = new_app(primary.url)
    client, auth = app.test_client(), AuthActions(app, primary.url)
    viewer = auth.headers("viewer")
    assert client.get("/api/customers", headers=viewer).status_code == 200
    primary.stop()
    assert client.get("/api/customers", headers=viewer).status_code == 503  # opens the breaker
    assert eventually(lambda: db.primary_down(app), timeout=5)
    with app.app_context():
        attempts = db.get_pool().stats()["connections_num"]
    for path in ("/api/customers", "/api/auth/me", "/api/health/ready"):
        answer = client.get(path, headers=viewer)
        assert answer.status_code == 503 and answer.headers["Retry-After"], path
    with app.app_context():
        assert db.get_pool().stats()["connections_num"] == attempts
    assert client.get("/api/health").status_code == 200
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(primary.url, connect_timeout=1).close()
