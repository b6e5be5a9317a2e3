"""Pool exhaustion through a real gunicorn: more concurrent slow requests than connections.

The slow requests are PATCHes of a customer whose row another session holds locked (a long transaction):
each one that gets a connection keeps it while it waits. With 2 connections and 8 threads, the other
requests wait for DB_POOL_TIMEOUT at most (bounded), then get 503 + Retry-After; past DB_POOL_MAX_WAITING
waiters they are refused at once. Once the lock goes, the held requests finish and everything answers again.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.checks import each_worker_db_health, pool_idle
from tests.support.gunicorn import GunicornServer
from tests.support.load import print_report

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]

POOL_TIMEOUT = 1.5
CONCURRENT = 8


def _timed_patch(server, path, headers, barrier):
    barrier.wait()
    started = time.monotonic()
    status, reply_headers, body = server.request("PATCH", path, body={"notes": "after the lock"},
                                                 headers=headers, timeout=60)
    return status, time.monotonic() - started, reply_headers, body, time.monotonic()


@pytest.mark.parametrize("max_waiting", [0, 2])
def test_exhausted_pool_waits_bounded_then_503_then_recovers(database_url, db, auth, max_waiting):
    env = {"DB_POOL_MIN_CONNECTIONS": "1", "DB_POOL_MAX_CONNECTIONS": "2", "DB_POOL_TIMEOUT": str(POOL_TIMEOUT),
           "DB_POOL_MAX_WAITING": str(max_waiting), "DB_STATEMENT_TIMEOUT_MS": "30000"}
    # The reader is an admin: the health check at the end needs pids (admins only), and its session state,
    # warm from the recovery reads, costs that burst no connection.
    manager, reader = auth.headers("manager"), auth.headers("admin")
    with db.cursor() as cur:
        cur.execute("INSERT INTO customers (name) VALUES ('Busy Signs') RETURNING id")
        path = f"/api/customers/{cur.fetchone()[0]}"
    with GunicornServer(database_url, workers=1, threads=CONCURRENT, env=env) as server:
        assert server.request("GET", path, headers=manager)[0] == 200  # warm: token state, pool minimum
        db.autocommit = False
        with db.cursor() as cur:
            cur.execute("SELECT 1 FROM customers WHERE id = %s FOR UPDATE", (int(path.rsplit("/", 1)[1]),))
        barrier = threading.Barrier(CONCURRENT)
        with ThreadPoolExecutor(CONCURRENT) as pool:
            futures = [pool.submit(_timed_patch, server, path, manager, barrier) for _ in range(CONCURRENT)]
            deadline = time.monotonic() + 30
            while sum(f.done() for f in futures) < CONCURRENT - 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = [f.result() for f in futures if f.done()]
            held_while_locked = CONCURRENT - len(refused)
            # Readiness has its own probe connection: an exhausted pool is busy, not down.
            ready_status = server.request("GET", "/api/health/ready")[0]
            db.rollback()  # the lock goes: the requests holding the two connections finish
            released_at = time.monotonic()
            db.autocommit = True
            answers = [f.result() for f in futures]
        # As many at once as the pool serves or queues (two connections plus the allowed waiters).
        clients = 2 + max_waiting if max_waiting else CONCURRENT
        recovery = [status for status, _, _ in
                    ThreadPoolExecutor(clients).map(lambda _: server.request("GET", path, headers=reader),
                                                    range(4 * CONCURRENT))]
        [health] = each_worker_db_health(server, reader, until=pool_idle).values()

    statuses = sorted(answer[0] for answer in answers)
    waits = sorted(round(elapsed, 2) for status, elapsed, *_ in answers if status == 503)
    recovered_after = max(ended for status, _, _, _, ended in answers if status == 200) - released_at
    print_report(f"pool-exhaustion max_waiting={max_waiting}", {
        "sent": CONCURRENT, "failed": len(waits), "held_while_locked": held_while_locked,
        "waits_of_503_s": waits, "recovered_after_s": round(recovered_after, 2),
        "recovery_statuses": sorted(set(recovery))})
    assert held_while_locked == 2 and statuses == [200, 200] + [503] * (CONCURRENT - 2), statuses
    for status, elapsed, headers, body, _ in answers:
        if status == 503:
            assert headers["Content-Type"] == "application/problem+json" and body["status"] == 503, body
            assert int(headers["Retry-After"]) >= 1
            assert elapsed < POOL_TIMEOUT + 5, "the wait for a connection is bounded"
    waited = [elapsed for elapsed in waits if elapsed >= POOL_TIMEOUT * 0.9]
    if max_waiting:
        # Two may queue; the others are refused without waiting for the timeout.
        assert len(waited) <= max_waiting and len(waits) - len(waited) >= CONCURRENT - 2 - max_waiting, waits
    else:
        assert len(waited) == CONCURRENT - 2, waits  # everyone queued for the full timeout
    assert ready_status == 200
    assert recovery == [200] * (4 * CONCURRENT), recovery
    stats = health["pool_stats"]
    assert stats["in_use"] == 0 and stats["requests_errors"] == CONCURRENT - 2 and stats["total"] <= 2
