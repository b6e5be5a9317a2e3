"""The pool under real faults, on a private PostgreSQL: killed backends and a server restart mid-test."""
import time

import psycopg2
import pytest

from apps.api.db import get_pool
from tests.support.auth import AuthActions
from tests.support.pools import backend_pid, pool_maker
from tests.support.private_pg import PrivatePostgres
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def private_pg():
    """A PostgreSQL of this module's own (migrated, demo users), so stopping it disturbs no other test."""
    server = PrivatePostgres(prefix="printshop-pool-faults-").start()
    yield server
    server.close()


@pytest.fixture
def private_url(private_pg):
    private_pg.start()  # running again even if a test failed while it was stopped
    return private_pg.url


@pytest.fixture
def make_pool(private_url):
    with pool_maker(private_url, min_size=0, max_size=1, timeout=2.0) as make:
        yield make


def terminate(url, pid):
    """End backend `pid` with pg_terminate_backend and wait until it is gone."""
    admin = psycopg2.connect(url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
            assert cur.fetchone() == (True,)
            assert eventually(lambda: cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                                                  (pid,)) or cur.fetchone() == (0,))
    finally:
        admin.close()


def test_a_killed_idle_backend_is_discarded_not_lent(make_pool, private_url):
    pool = make_pool(check_idle_after=0)  # check every checkout, so the test needs no idle time
    with pool.connection() as conn:
        killed = backend_pid(conn)
    terminate(private_url, killed)
    with pool.connection() as conn:
        assert backend_pid(conn) != killed
    stats = pool.stats()
    assert stats["connections_lost"] == 1 and stats["connections_num"] == 2 and stats["requests_errors"] == 0


def test_a_backend_killed_during_use_is_closed_on_return_never_reused(make_pool, private_url):
    pool = make_pool(check_idle_after=3600)  # no checkout check: the failure happens in use
    with pool.connection() as conn:
        killed = backend_pid(conn)
    with pytest.raises((psycopg2.OperationalError, psycopg2.InterfaceError)):
        with pool.connection() as conn, conn.cursor() as cur:
            terminate(private_url, killed)
            cur.execute("SELECT 1")
    assert pool.stats()["returns_bad"] == 1 and pool.stats()["pool_size"] == 0
    with pool.connection() as conn:
        assert backend_pid(conn) != killed


def test_a_failed_rollback_still_frees_the_slot(make_pool, private_url):
    pool = make_pool()
    conn = pool.getconn()
    killed = backend_pid(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT 1")  # a transaction is open: the return must roll it back, and that fails
    terminate(private_url, killed)
    pool.putconn(conn)
    stats = pool.stats()
    assert stats["returns_bad"] == 1 and stats["pool_size"] == 0 and stats["pool_in_use"] == 0
    with pool.connection(timeout=0.5) as conn:
        assert backend_pid(conn) != killed


def test_after_one_dead_connection_the_other_idle_ones_are_vetted(make_pool, private_url):
    pool = make_pool(max_size=2, check_idle_after=3600)  # only the suspicion triggers checks here
    held = [pool.getconn(), pool.getconn()]
    killed = [backend_pid(conn) for conn in held]
    for conn in held:
        pool.putconn(conn)
    for pid in killed:
        terminate(private_url, pid)
    with pytest.raises((psycopg2.OperationalError, psycopg2.InterfaceError)):
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")  # the first one fails in use: nothing told us yet
    with pool.connection() as conn:  # the second is checked before it is lent, and replaced
        assert backend_pid(conn) not in killed
    stats = pool.stats()
    assert stats["returns_bad"] == 1 and stats["connections_lost"] == 1


def run_select(pool):
    """Run SELECT 1 through the pool; return None, or the error type when it failed."""
    try:
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        return type(exc).__name__
    return None


def test_the_pool_heals_after_the_server_restarts(make_pool, private_pg):
    pool = make_pool(min_size=2, max_size=3)
    assert eventually(lambda: pool.stats()["pool_available"] == 2)
    private_pg.stop()
    private_pg.start()
    # A connection that idled less than 0.5 s is lent unchecked: if the restart was that fast, the
    # first use fails (and marks the rest suspect). Never more than that one, and never a hang.
    outcomes = [run_select(pool) for _ in range(3)]
    assert outcomes[1:] == [None, None] and outcomes[0] in (None, "OperationalError", "InterfaceError")
    stats = pool.stats()
    # Both old connections were dead; one or both were met (the refill may lend a fresh one first).
    assert stats["connections_lost"] + stats["returns_bad"] >= 1 and stats["requests_errors"] == 0
    assert eventually(lambda: pool.stats()["pool_available"] >= 2)


def test_requests_get_503_during_an_outage_and_succeed_within_1_s_after(private_pg, private_url, new_app):
    app = new_app(private_url, DB_POOL_TIMEOUT=0.5)
    client, headers = app.test_client(), AuthActions(app, private_url).headers("viewer")
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    private_pg.stop()
    try:
        for path in ("/api/auth/me", "/api/health/db/test", "/api/health/ready"):
            response = client.get(path, headers=headers)
            assert response.status_code == 503, path
            assert response.mimetype == "application/problem+json" and response.headers["Retry-After"]
        health = client.get("/api/health/db", headers=headers)  # 503 from the token check, or unhealthy
        assert health.status_code == 503 or health.get_json()["status"] == "unhealthy"
        assert client.get("/api/health").status_code == 200
    finally:
        private_pg.start()
    back_at, statuses = time.monotonic(), []
    while time.monotonic() - back_at < 1.0:
        statuses.append(client.get("/api/auth/me", headers=headers).status_code)
        if statuses[-1] == 200:
            break
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    assert client.get("/api/health/ready").status_code == 200
    assert get_pool(app).stats()["pool_in_use"] == 0
