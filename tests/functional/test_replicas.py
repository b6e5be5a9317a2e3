"""Read replicas: a real streaming standby made with the embedded PostgreSQL's own pg_basebackup.

Reads go to the standby; a user reads their own writes (their reads stay on the primary until the
standby has replayed past the write); a standby that stops or lags beyond DB_REPLICA_MAX_LAG_SECONDS
leaves rotation within a second, its reads go to the primary without failing, and it comes back.
"""
import time

import psycopg2
import pytest

from apps.api import cache, db, open_resources
from tests.support.auth import AuthActions
from tests.support.database import execute
from tests.support.private_pg import primary_with_standby
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def primary_and_standby():
    with primary_with_standby("printshop-replicas-") as servers:
        yield servers


@pytest.fixture
def replicated(primary_and_standby, new_app):
    primary, standby = primary_and_standby
    standby.start()
    app = new_app(primary.url, DATABASE_REPLICA_URLS=standby.url("postgres"), DB_REPLICA_MAX_LAG_SECONDS=0.5)
    open_resources(app)
    assert eventually(lambda: replica_state(app) == "in_rotation"), db.database(app).databases()
    return app, AuthActions(app, primary.url), standby


def replica_state(app):
    return db.database(app).databases()[1]["state"]


def replica_reads(app):
    return db.database(app).databases()[1]["pool"]["requests_num"]


def test_health_reports_each_database_and_names_no_host_port_or_user(replicated, primary_and_standby):
    app, auth, standby = replicated
    answer = app.test_client().get("/api/health/db?scope=all", headers=auth.headers("viewer"))
    assert answer.status_code == 200
    databases = answer.get_json()["databases"]
    assert [(d["name"], d["role"], d["state"]) for d in databases] == [
        ("primary", "primary", "up"), ("replica1", "replica", "in_rotation")]
    assert databases[1]["lag_s"] is not None and databases[1]["pool"]["pool_max"] == 5
    assert eventually(lambda: app.test_client().get("/api/health/db?scope=all", headers=auth.headers("viewer"))
                      .get_json()["workers"])  # this process's own heartbeat
    text = answer.get_data(as_text=True)
    for port in (primary_and_standby[0].server.port, standby.port):
        assert f":{port}" not in text and f"port={port}" not in text
    assert "127.0.0.1" not in text and "postgres@" not in text


def test_reads_go_to_the_replica_and_a_user_reads_their_own_writes(replicated):
    app, auth, _ = replicated
    client, manager = app.test_client(), auth.headers("manager")
    before = replica_reads(app)
    assert client.get("/api/customers", headers=manager).status_code == 200
    assert replica_reads(app) == before + 1
    for number in range(20):  # each read right after the write: from the primary, never a 404
        created = client.post("/api/customers", json={"name": f"Fresh {number}"}, headers=manager)
        assert created.status_code == 201
        read = client.get(f"/api/customers/{created.json['id']}", headers=manager)
        assert read.status_code == 200 and read.json["name"] == f"Fresh {number}"
    assert replica_reads(app) == before + 1
    # Once the replica has replayed the writes, the manager's reads go back to it.
    writes_seen = db.database(app).writers
    assert eventually(lambda: db.database(app).replicas().choose(writes_seen.since(auth.user_id("manager"))))
    assert client.get("/api/customers", headers=manager).status_code == 200
    assert replica_reads(app) == before + 2
    assert cache.get_cache(app).listener.listening


def test_a_stopped_replica_leaves_rotation_within_a_second_and_fails_no_read(replicated):
    app, auth, standby = replicated
    client, viewer = app.test_client(), auth.headers("viewer")
    assert client.get("/api/jobs", headers=viewer).status_code == 200
    standby.stop(mode="immediate")
    stopped_at = time.monotonic()
    statuses = [client.get("/api/customers", headers=viewer).status_code for _ in range(5)]
    assert eventually(lambda: replica_state(app) == "down", timeout=2)
    left_after = time.monotonic() - stopped_at
    statuses += [client.get("/api/jobs", headers=viewer).status_code for _ in range(5)]
    assert statuses == [200] * 10 and left_after < 1.0, (statuses, left_after)
    standby.start()
    assert eventually(lambda: replica_state(app) == "in_rotation", timeout=10)
    before = replica_reads(app)
    assert client.get("/api/customers", headers=viewer).status_code == 200
    assert replica_reads(app) == before + 1


def test_a_lagging_replica_leaves_rotation_and_returns_when_it_catches_up(replicated, primary_and_standby):
    app, auth, standby = replicated
    primary, _ = primary_and_standby
    client, viewer = app.test_client(), auth.headers("viewer")
    execute(standby.url("postgres"), "SELECT pg_wal_replay_pause()")
    try:
        paused_at = time.monotonic()
        # One connection for the whole loop: a login per insert (SCRAM, on a loaded machine) is not what
        # this measures.
        writer = psycopg2.connect(primary.url)
        writer.autocommit = True
        try:
            while time.monotonic() - paused_at < 1.5:
                with writer.cursor() as cur:
                    cur.execute("INSERT INTO customers (name) VALUES ('while paused')")
                time.sleep(0.05)
        finally:
            writer.close()
        assert replica_state(app) == "lagging" and db.database(app).databases()[1]["lag_s"] > 0.5
        before = replica_reads(app)
        assert client.get("/api/customers?q=while paused", headers=viewer).json["pagination"]["total"] >= 20
        assert replica_reads(app) == before
    finally:
        execute(standby.url("postgres"), "SELECT pg_wal_replay_resume()")
    assert eventually(lambda: replica_state(app) == "in_rotation")


def test_a_dashboard_answer_loaded_after_an_invalidation_never_comes_from_a_replica_behind_it(
        replicated, primary_and_standby):
    app, auth, standby = replicated
    primary, _ = primary_and_standby
    client, viewer = app.test_client(), auth.headers("viewer")
    first = client.get("/api/dashboard/stats", headers=viewer).get_json()["jobs"]["total"]
    execute(standby.url("postgres"), "SELECT pg_wal_replay_pause()")
    try:
        [(customer,)] = primary.execute("INSERT INTO customers (name) VALUES ('Fenced') RETURNING id")
        primary.execute("INSERT INTO jobs (customer_id, title) VALUES (%s, 'Fenced job')", (customer,))
        # The invalidation reaches this worker; the replica still lags less than the setting allows.
        assert eventually(lambda: cache.get_cache(app).stats("/api/dashboard/stats")["total_entries"] == 0)
        assert replica_state(app) == "in_rotation"
        answer = client.get("/api/dashboard/stats", headers=viewer)
        assert answer.headers["X-Cache"] == "MISS" and answer.get_json()["jobs"]["total"] == first + 1
    finally:
        execute(standby.url("postgres"), "SELECT pg_wal_replay_resume()")
