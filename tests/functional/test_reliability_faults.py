"""Database faults under concurrent load through a real gunicorn, on a PostgreSQL of this module's own.

Eight client threads send a mix of reads and writes (POST /api/customers as manager, searches, /me, the
dashboard, a pool round trip) while PostgreSQL is restarted for real (fast and crash-like immediate stops),
while every backend of the service is killed with pg_terminate_backend, while the service starts without
its database, and while a query runs past statement_timeout. Each test checks: no 500 and no connection
error (every failure is a 503 problem+json with Retry-After), no acknowledged write lost (every 201 is in
the database afterwards), no worker lost, every worker's pool back to idle. The measured outcome of each
fault (requests sent, failed, recovered-after seconds) is printed: run with `pytest -s` to see it.
"""
import time

import psycopg2
import pytest

from apps.api import create_app
from tests.support.apps import app_config
from tests.support.auth import AuthActions
from tests.support.checks import each_worker_db_health, pool_idle
from tests.support.gunicorn import GunicornServer
from tests.support.load import Load, missing_writes, print_report
from tests.support.private_pg import PrivatePostgres

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]

OUTAGE_SECONDS = 3.0  # longer than DB_POOL_TIMEOUT: requests must fail cleanly, not only wait
FAULT_ENV = {"DB_POOL_MIN_CONNECTIONS": "1", "DB_POOL_MAX_CONNECTIONS": "4", "DB_POOL_TIMEOUT": "2",
             "DB_CONNECT_TIMEOUT": "2"}
USERS = ("manager", "viewer", "operator1", "admin")


@pytest.fixture(scope="module")
def private_pg():
    server = PrivatePostgres(prefix="printshop-faults-").start()
    yield server
    server.close()


@pytest.fixture
def pg(private_pg):
    private_pg.start()  # running again even if an earlier test failed while it was stopped
    return private_pg


@pytest.fixture(scope="module")
def tokens(private_pg):
    auth = AuthActions(create_app(app_config(private_pg.url)), private_pg.url)
    return {user: auth.headers(user) for user in USERS}


def assert_survived(server, load, pg, tokens, workers_before):
    """The invariants after any fault: clean failures only, nothing lost, no worker lost, pools idle."""
    assert load.unclean_failures() == [], load.unclean_failures()[:5]
    assert missing_writes(pg.url, load.acknowledged) == [], "acknowledged writes were lost"
    assert server.worker_pids() == workers_before, "a worker died"
    each_worker_db_health(server, tokens["admin"], until=pool_idle)


def run_fault(pg, tokens, tag, inject, workers=2):
    """Start gunicorn and the load, wait for a healthy baseline, run `inject()`, wait for recovery.

    `inject()` returns when the database is usable again. Returns (report, recovered).
    """
    with GunicornServer(pg.url, workers=workers, threads=4, env=FAULT_ENV) as server:
        workers_before = server.worker_pids()
        load = Load(server, tokens, clients=8, tag=tag).start()
        try:
            assert load.wait_for_successes(20, timeout=30), f"no healthy baseline: {load.statuses()}"
            fault_started = time.monotonic()
            inject()
            back_at = time.monotonic()
            recovered = load.wait_for_successes(40, timeout=30, since=back_at)
        finally:
            load.stop()
        report = load.report(fault_started, back_at)
        print_report(tag, report)
        assert recovered, f"no recovery after the fault: {report}"
        assert_survived(server, load, pg, tokens, workers_before)
    return report


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_postgresql_restart_under_load(pg, tokens, mode):
    def restart():
        pg.stop(mode)
        time.sleep(OUTAGE_SECONDS)
        pg.start()

    report = run_fault(pg, tokens, f"restart-{mode}", restart)
    assert report["failed"] > 0, "the outage was not seen: the test did not test anything"
    assert report["writes_acknowledged"] > 0


def terminate_service_backends(pg):
    """Kill every backend of the service (pool, probe and LISTEN connections); return how many."""
    [(killed,)] = pg.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE application_name LIKE 'printshop:%' AND pid <> pg_backend_pid()")
    return killed


def test_killed_backends_under_load(pg, tokens):
    killed = []

    def kill_three_times():
        for round_number in range(3):
            time.sleep(0.5 if round_number else 0)
            killed.append(terminate_service_backends(pg))

    report = run_fault(pg, tokens, "terminate-backends", kill_three_times)
    assert sum(killed) >= 3, killed
    print_report("terminate-backends killed", {"backends_killed": sum(killed), "rounds": killed})
    assert report["writes_acknowledged"] > 0


def test_the_service_starts_without_its_database_and_recovers(pg, tokens):
    pg.stop()
    with GunicornServer(pg.url, workers=2, threads=4, env=FAULT_ENV) as server:
        workers_before = server.worker_pids()
        status, headers, body = server.request("GET", "/api/health/ready")
        assert status == 503 and headers["Content-Type"] == "application/problem+json", body
        assert headers["Retry-After"] and body["status"] == 503
        assert server.request("GET", "/api/health")[0] == 200  # alive, though not ready
        load = Load(server, tokens, clients=8, tag="unreachable-at-start").start()
        try:
            deadline = time.monotonic() + 20
            while len(load.outcomes) < 16 and time.monotonic() < deadline:
                time.sleep(0.1)  # each refusal may take up to DB_POOL_TIMEOUT (connect retries)
            assert len(load.outcomes) >= 16 and not any(o.ok for o in load.outcomes), load.statuses()
            fault_started = load.outcomes[0].started
            pg.start()
            back_at = time.monotonic()
            ready = [server.request("GET", "/api/health/ready")[0] for _ in range(3)]
            while ready[-3:] != [200] * 3 and time.monotonic() - back_at < 30:
                ready.append(server.request("GET", "/api/health/ready")[0])
                time.sleep(0.05)
            ready_after = time.monotonic() - back_at
            recovered = load.wait_for_successes(40, timeout=30, since=back_at)
        finally:
            load.stop()
        report = dict(load.report(fault_started, back_at), ready_after_s=round(ready_after, 2))
        print_report("unreachable-at-start", report)
        assert ready[-3:] == [200] * 3 and set(ready) <= {200, 503}, ready
        assert recovered, report
        assert_survived(server, load, pg, tokens, workers_before)


def test_a_query_over_statement_timeout_is_a_clean_503_and_its_connection_stays(pg, tokens):
    """A PATCH waits on a row lock held by another session (a real slow path: a long transaction, a
    migration) past statement_timeout. One worker with a one-connection pool: the connection that ran the
    cancelled statement must be the one that serves the next requests (connections_num stays 1)."""
    [(customer_id,)] = pg.execute("INSERT INTO customers (name) VALUES ('Locked Ltd') RETURNING id")
    env = dict(FAULT_ENV, DB_POOL_MIN_CONNECTIONS="1", DB_POOL_MAX_CONNECTIONS="1", DB_POOL_TIMEOUT="10",
               DB_STATEMENT_TIMEOUT_MS="1000")
    path, change = f"/api/customers/{customer_id}", {"notes": "changed"}
    with GunicornServer(pg.url, workers=1, threads=4, env=env) as server:
        workers_before = server.worker_pids()
        load = Load(server, tokens, clients=4, tag="statement-timeout").start()
        locker = psycopg2.connect(pg.url)
        try:
            assert load.wait_for_successes(10, timeout=30), load.statuses()
            with locker.cursor() as cur:
                cur.execute("SELECT * FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
            fault_started, timed_out = time.monotonic(), []
            for _ in range(3):
                started = time.monotonic()
                status, headers, body = server.request("PATCH", path, body=change, headers=tokens["manager"])
                timed_out.append((status, round(time.monotonic() - started, 2)))
                assert status == 503 and headers["Content-Type"] == "application/problem+json", body
                assert headers["Retry-After"] and "took too long" in body["detail"], body
            locker.rollback()
            back_at = time.monotonic()
            status, _, body = server.request("PATCH", path, body=change, headers=tokens["manager"])
            assert status == 200 and body["notes"] == "changed", body
            assert load.wait_for_successes(20, timeout=30, since=back_at)
        finally:
            locker.close()
            load.stop()
        report = dict(load.report(fault_started, back_at), timed_out_patches=timed_out)
        print_report("statement-timeout", report)
        assert_survived(server, load, pg, tokens, workers_before)
        [stats] = [body["pool_stats"] for body in each_worker_db_health(server, tokens["admin"]).values()]
        assert stats["connections_num"] == 1 and stats["returns_bad"] == 0 and stats["connections_lost"] == 0
        assert report["failed"] == 0, "only the PATCHes of the locked row may fail"
