"""Behind a real PgBouncer 1.18+ in transaction mode with its default settings.

DATABASE_URL points at PgBouncer, DATABASE_DIRECT_URL at PostgreSQL (LISTEN, migrations). Every route
answers without a 5xx, the per-transaction settings hold (the statement timeout fires through PgBouncer)
and none of them leaks into the server connections PgBouncer hands to other clients.
"""
import time

import psycopg2
import pytest

from apps.api import db
from tests.support.auth import login
from tests.support.factories import add_customer
from tests.support.pgbouncer import PgBouncer
from tests.support.private_pg import PrivatePostgres
from tests.support.routes import url_map_routes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def topology():
    postgres = PrivatePostgres(prefix="printshop-pgbouncer-").start()
    bouncer = PgBouncer(postgres.server.port, postgres.server.password).start()
    try:
        yield postgres, bouncer
    finally:
        bouncer.close()
        postgres.close()


@pytest.fixture
def bounced_app(topology, new_app):
    postgres, bouncer = topology
    return new_app(bouncer.url(), DATABASE_DIRECT_URL=postgres.url, DB_STATEMENT_TIMEOUT_MS=500)


def test_pgbouncer_refuses_the_startup_options_the_pool_used_to_send(topology):
    _, bouncer = topology
    with pytest.raises(psycopg2.OperationalError, match="unsupported startup parameter"):
        psycopg2.connect(bouncer.url(), options="-c statement_timeout=1000")


def test_every_route_answers_without_a_server_error_through_pgbouncer(topology, bounced_app):
    postgres, _ = topology
    client = bounced_app.test_client()
    response = login(client, "admin")
    assert response.status_code == 200, response.json
    headers = {"Authorization": f"Bearer {response.json['access_token']}"}
    customer = client.post("/api/customers", json={"name": "Bounced Ltd"}, headers=headers)
    assert customer.status_code == 201, customer.json
    job = client.post("/api/jobs", json={"customer_id": customer.json["id"], "title": "Banner", "status": "active",
                                         "steps": [{"process_id": 1}]}, headers=headers)
    assert job.status_code == 201, job.json
    answered = {}
    for method, rule, _ in url_map_routes():
        if method != "GET" or "<" in rule or not rule.startswith("/api/"):
            continue
        answered[rule] = client.get(rule, headers=headers).status_code
    assert answered and all(status < 500 for status in answered.values()), answered
    assert answered["/api/dashboard/stats"] == 200 and answered["/api/customers"] == 200
    patched = client.patch(f"/api/jobs/{job.json['id']}", json={"title": "Banner 2"}, headers=headers)
    assert patched.status_code == 200 and patched.json["title"] == "Banner 2"
    conn = _autocommit(postgres.url)
    try:
        gone = add_customer(conn, "Gone")
    finally:
        conn.close()
    assert client.delete(f"/api/customers/{gone}", headers=headers).status_code == 204


def _autocommit(url):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def test_the_statement_timeout_fires_through_pgbouncer(bounced_app):
    with bounced_app.app_context():
        for open_cursor in (db.cursor, db.read_cursor):
            started = time.monotonic()
            with pytest.raises(psycopg2.errors.QueryCanceled):
                with open_cursor() as cur:
                    cur.execute("SELECT pg_sleep(3)")
            assert time.monotonic() - started < 2.5
        with db.connection() as conn, conn.cursor() as cur:
            started = time.monotonic()
            with pytest.raises(psycopg2.errors.QueryCanceled):
                cur.execute("SELECT pg_sleep(3)")
            assert time.monotonic() - started < 2.5


def test_the_settings_hold_in_each_transaction_and_leak_to_no_other_client(topology, bounced_app):
    _, bouncer = topology
    with bounced_app.app_context():
        with db.cursor() as cur:
            cur.execute("SELECT current_setting('statement_timeout') AS timeout, current_setting('TimeZone') AS zone,"
                        " current_setting('idle_in_transaction_session_timeout') AS idle")
            assert cur.fetchone() == {"timeout": "500ms", "zone": "UTC", "idle": "30s"}
    other = _autocommit(bouncer.url())  # another client of the same PgBouncer pool
    try:
        with other.cursor() as cur:
            cur.execute("SELECT current_setting('statement_timeout')")
            assert cur.fetchone()[0] == "0"
    finally:
        other.close()


def test_a_transaction_whose_connection_died_with_pgbouncer_starts_over_on_a_fresh_one(topology, bounced_app):
    _, bouncer = topology
    client = bounced_app.test_client()
    manager = {"Authorization": f"Bearer {login(client, 'manager').json['access_token']}"}
    assert client.get("/api/customers", headers=manager).status_code == 200
    with bounced_app.app_context():
        pool = db.get_pool()
        pool.check_idle_after = 60  # hand out the idle connections unchecked, as under load
        before = pool.stats()
    bouncer.stop()  # every server and client connection through it is cut
    bouncer.start()
    created = client.post("/api/customers", json={"name": "After the restart"}, headers=manager)
    assert created.status_code == 201, created.json
    assert client.get(f"/api/customers/{created.json['id']}", headers=manager).status_code == 200
    with bounced_app.app_context():
        after = db.get_pool().stats()
    assert after["returns_bad"] > before["returns_bad"]  # a dead connection was met, and replaced
