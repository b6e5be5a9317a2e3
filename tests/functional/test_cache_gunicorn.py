"""The cache under real gunicorn: 4 workers plus a second instance on the same database stay coherent."""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from apps.api.db import Queries
from apps.api.tools.cli import counter_drift
from tests.support.checks import each_worker_cache_stats
from tests.support.factories import add_customer, add_job
from tests.support.gunicorn import GunicornServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]
STATS = "/api/dashboard/stats"
BURST = 50


@pytest.fixture(scope="module")
def servers(test_database):
    """Instance A with 4 workers and instance B with 2, both on the test database."""
    url = test_database[0]
    with GunicornServer(url, workers=4) as first, GunicornServer(url, workers=2) as second:
        yield first, second


def _batch(server, path, headers, count=8):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: server.request("GET", path, headers=headers), range(count)))


@pytest.fixture
def workers(servers, database_url, db, auth):
    """Both instances with empty caches (the test reset does not notify), and a way to warm them."""
    with db.cursor() as cur:
        cur.execute("SELECT pg_notify('cache_invalidate', '')")
    admin = auth.headers("admin")  # pids (which worker answered): admins only
    for server in servers:
        each_worker_cache_stats(server, admin, "", until=lambda stats: stats["total_entries"] == 0)

    def warm(path=STATS, user="admin"):
        """Request `path` until every worker of both instances holds it."""
        for server in servers:
            deadline = time.monotonic() + 10
            while True:
                assert all(status == 200 for status, _, _ in _batch(server, path, auth.headers(user), 16))
                stats = each_worker_cache_stats(server, admin, path)
                if all(s["total_entries"] >= 1 for s in stats.values()) or time.monotonic() > deadline:
                    break
            assert all(s["total_entries"] >= 1 for s in stats.values()), "a worker never cached the answer"

    return warm


def assert_every_worker_dropped(servers, auth, since, prefix="/api/dashboard/"):
    """Every worker of both instances holds nothing under `prefix`, dropped within 1 s of `since`."""
    for server in servers:
        stats = each_worker_cache_stats(server, auth.headers("admin"), prefix,
                                        until=lambda s: s["total_entries"] == 0)
        for pid, worker in stats.items():
            delivered = datetime.fromisoformat(worker["listener"]["last_delivery_at"])
            assert since <= delivered <= since + timedelta(seconds=1), f"worker {pid} dropped its entries late"


def totals_seen(server, auth, count=16):
    return {body["jobs"]["total"] for status, _, body in _batch(server, STATS, auth.headers("admin"), count)}


def test_a_clear_reaches_every_worker_of_both_instances_within_a_second(servers, workers, auth):
    workers()
    since = datetime.now(UTC)
    status, _, body = servers[1].request("POST", "/api/health/cache/clear", headers=auth.headers("admin"))
    assert status == 200 and body["status"] == "ok"
    assert_every_worker_dropped(servers, auth, since)


def test_an_api_write_reaches_every_worker_within_a_second(servers, workers, auth, db):
    customer = add_customer(db)
    workers()
    assert all(totals_seen(server, auth) == {0} for server in servers)
    since = datetime.now(UTC)
    status, _, body = servers[1].request("POST", "/api/jobs", headers=auth.headers("manager"),
                                         body={"customer_id": customer, "title": "Window decals"})
    assert status == 201, body
    assert_every_worker_dropped(servers, auth, since)
    assert all(totals_seen(server, auth) == {1} for server in servers)


def test_a_write_in_plain_sql_reaches_the_dashboard_of_every_worker(servers, workers, auth, db):
    customer = add_customer(db)
    workers()
    since = datetime.now(UTC)
    add_job(db, customer, "on_hold")
    assert_every_worker_dropped(servers, auth, since)
    for server in servers:
        answers = _batch(server, STATS, auth.headers("admin"), 16)
        assert {body["jobs"]["on_hold"] for _, _, body in answers} == {1}


def test_a_user_never_gets_another_users_entry(servers, workers, auth, db):
    customer, op1, op2 = add_customer(db), auth.user_id("operator1"), auth.user_id("operator2")
    add_job(db, customer, "active", steps=[(op1, "pending"), (op1, "pending"), (op2, "pending")])
    expected = {"operator1": 2, "operator2": 1, "viewer": 0}
    headers = {user: auth.headers(user) for user in expected}

    def ask(n):
        user = list(expected)[n % 3]
        status, reply_headers, body = servers[n % 2].request("GET", STATS, headers=headers[user])
        return user, reply_headers["X-Cache"], body["tasks"]["pending"]

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(ask, range(120)))
    assert all(pending == expected[user] for user, _, pending in answers)
    assert any(cache == "HIT" for _, cache, _ in answers)


def _stats_statements_by_worker(db, workers):
    """Return {worker pid: how many GET /api/dashboard/stats statements its connections are running now}.

    pg_stat_activity (always there, no extension) shows each statement in flight, and the pool names
    every connection after its worker ("printshop:pool:<pid>").
    """
    # pg_stat_activity keeps a statement's first 1 kB, and the transaction's SET LOCAL settings come
    # first in the same string: look for the text before the first parameter anywhere in it.
    head = Queries("dashboard.sql").get_stats.split("%(")[0]
    with db.cursor() as cur:
        cur.execute("SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND strpos(query, %s) > 0 AND pid <> pg_backend_pid() GROUP BY 1",
                    (head,))
        running = {name: count for name, count in cur.fetchall()}
    return {pid: running.get(f"printshop:pool:{pid}", 0) for pid in workers}


def test_a_burst_on_a_cold_key_queries_once_per_worker(servers, workers, auth, db, database_url):
    server, manager, admin = servers[0], auth.headers("manager"), auth.headers("admin")
    pids = server.worker_pids()
    before = each_worker_cache_stats(server, admin, STATS)  # the counters add up over the module's tests
    # Every load of the stats waits on this lock, so the whole burst arrives while the first loads still
    # run, and a worker that loaded twice shows two statements at once in pg_stat_activity.
    lock = psycopg2.connect(database_url)
    with lock.cursor() as cur:
        cur.execute("LOCK TABLE dashboard_counts IN ACCESS EXCLUSIVE MODE")
    with ThreadPoolExecutor(BURST) as pool:
        try:
            asks = [pool.submit(server.request, "GET", STATS, headers=manager) for _ in range(BURST)]
            eventually(lambda: all(_stats_statements_by_worker(db, pids).values()))
            time.sleep(0.5)  # room for the rest of the burst to reach the workers' threads, and load or wait
            running = _stats_statements_by_worker(db, pids)
        finally:
            lock.close()  # ends its transaction: the waiting loads go on
        answers = [ask.result() for ask in asks]
    assert {status for status, _, _ in answers} == {200}
    assert len({str(body) for _, _, body in answers}) == 1
    assert sum(running.values()) >= 1 and all(count <= 1 for count in running.values()), running
    after = each_worker_cache_stats(server, admin, STATS)
    loads, coalesced = ({pid: after[pid]["by_prefix"].get(STATS, {}).get(name, 0)
                         - before[pid]["by_prefix"].get(STATS, {}).get(name, 0) for pid in pids}
                        for name in ("loads", "coalesced"))
    # Each worker loaded at most once, its counter agrees with what the database saw, and the requests
    # that arrived meanwhile waited for that load instead of querying.
    assert all(running[pid] <= loads[pid] <= 1 for pid in pids), (running, loads)
    assert sum(coalesced.values()) >= 1, coalesced
    misses = sum(1 for _, reply_headers, _ in answers if reply_headers["X-Cache"] == "MISS")
    assert misses == sum(loads.values())


def test_eight_concurrent_api_writers_on_both_instances(servers, workers, auth, db, database_url):
    customer = add_customer(db)
    with db.cursor() as cur:
        cur.execute("SELECT id FROM processes WHERE code = 'print'")
        process = cur.fetchone()[0]
    operators = [auth.user_id(f"operator{n}") for n in range(1, 6)]
    manager, failures = auth.headers("manager"), []
    workers()

    def write(n):
        server = servers[n % 2]
        for _ in range(3):
            steps = [{"process_id": process, "assigned_to": operators[(n + i) % 5]} for i in range(3)]
            status, _, job = server.request("POST", "/api/jobs", headers=manager, body={
                "customer_id": customer, "title": f"Writer {n}", "status": "active", "steps": steps})
            if status != 201:
                failures.append(job)
                continue
            for step, step_status in zip(job["steps"], ("in_progress", "skipped")):
                status, _, body = server.request("PATCH", f"/api/steps/{step['id']}", headers=manager,
                                                 body={"status": step_status})
                if status != 200:
                    failures.append(body)
            if n % 2:
                status, _, body = server.request("DELETE", f"/api/jobs/{job['id']}", headers=manager)
                if status != 204:
                    failures.append(body)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(8)))
    assert failures == []
    assert counter_drift(database_url) == []
    time.sleep(1.0)  # the contract's bound for every worker to drop what the writes changed
    assert all(totals_seen(server, auth, 24) == {12} for server in servers)
