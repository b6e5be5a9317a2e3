"""The connection pool against a real PostgreSQL: waiting, returning, recycling, leaks, fork safety, stats."""
import logging
import os
import sys
import threading
import time

import psycopg2
import pytest

from apps.api import db as db_module
from apps.api.db.pool import PoolClosed, PoolForkError, PoolTimeout, TooManyRequests
from tests.support.pools import EXTRA_STATS, PSYCOPG_POOL_STATS, backend_pid, pool_maker
from tests.support.source import syntax_tree
from tests.support.waiting import eventually


@pytest.fixture
def make_pool(database_url):
    """Build pools on the test database (min 0, max 2, 2 s timeout unless told) and close them after."""
    with pool_maker(database_url, min_size=0, max_size=2, timeout=2.0) as make:
        yield make


def borrow_in_thread(pool, results, label, hold=0.0):
    """Start a thread that borrows a connection, notes `label` in `results`, and gives it back."""
    def run():
        try:
            conn = pool.getconn()
        except Exception as exc:  # the test asserts on what was recorded
            results.append((label, type(exc).__name__))
            return
        results.append((label, backend_pid(conn)))
        time.sleep(hold)
        pool.putconn(conn)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_stats_are_present_and_zero_filled(make_pool):
    stats = make_pool(max_size=3).stats()
    assert set(PSYCOPG_POOL_STATS + EXTRA_STATS) <= set(stats)
    assert stats["pool_max"] == 3 and stats["pid"] == os.getpid()
    assert all(stats[name] == 0 for name in PSYCOPG_POOL_STATS + EXTRA_STATS if name not in
               ("pool_max", "pid", "age_s"))


def test_exhausted_pool_waits_then_times_out_and_frees_every_slot(make_pool):
    pool = make_pool(max_size=2, timeout=0.2)
    held = [pool.getconn(), pool.getconn()]
    with pytest.raises(PoolTimeout):
        pool.getconn()
    with pytest.raises(PoolTimeout):
        pool.getconn(timeout=0)  # the per-call timeout wins
    stats = pool.stats()
    assert stats["requests_num"] == 4 and stats["requests_queued"] == 2 and stats["requests_errors"] == 2
    assert stats["requests_waiting"] == 0 and stats["requests_wait_ms"] > 0
    assert stats["requests_wait_max_ms"] > 0 and stats["pool_in_use"] == 2
    for conn in held:
        pool.putconn(conn)
    stats = pool.stats()
    assert stats["pool_in_use"] == 0 and stats["pool_available"] == 2 and stats["pool_size"] == 2
    conn = pool.getconn(timeout=0)
    assert backend_pid(conn) in {backend_pid(c) for c in held}  # a pooled one, not a new connection
    pool.putconn(conn)
    assert pool.stats()["connections_num"] == 2


def test_a_waiter_gets_the_returned_connection(make_pool):
    pool = make_pool(max_size=1)
    conn = pool.getconn()
    pid = backend_pid(conn)
    results = []
    thread = borrow_in_thread(pool, results, "waiter")
    assert eventually(lambda: pool.stats()["requests_waiting"] == 1)
    pool.putconn(conn)
    thread.join(5)
    assert results == [("waiter", pid)]
    assert pool.stats()["requests_queued"] == 1 and pool.stats()["connections_num"] == 1


def test_waiters_are_served_first_come_first_served(make_pool):
    pool = make_pool(max_size=1, timeout=5)
    conn = pool.getconn()
    results, threads = [], []
    for number, label in enumerate(("first", "second", "third"), start=1):
        threads.append(borrow_in_thread(pool, results, label))
        assert eventually(lambda number=number: pool.stats()["requests_waiting"] == number)
    pool.putconn(conn)
    for thread in threads:
        thread.join(5)
    assert [label for label, _ in results] == ["first", "second", "third"]


def test_max_waiting_refuses_at_once(make_pool):
    pool = make_pool(max_size=1, max_waiting=1, timeout=5)
    conn = pool.getconn()
    results = []
    thread = borrow_in_thread(pool, results, "waiter")
    assert eventually(lambda: pool.stats()["requests_waiting"] == 1)
    with pytest.raises(TooManyRequests):
        pool.getconn()
    assert pool.stats()["requests_errors"] == 1
    pool.putconn(conn)
    thread.join(5)
    assert results and results[0][0] == "waiter" and isinstance(results[0][1], int)


def test_a_burst_keeps_its_connections_instead_of_reconnecting(make_pool):
    pool = make_pool(min_size=1, max_size=3)
    for _ in range(3):
        held = [pool.getconn() for _ in range(3)]
        for conn in held:
            pool.putconn(conn)
    stats = pool.stats()
    assert stats["connections_num"] == 3 and stats["pool_size"] == 3 and stats["pool_available"] == 3


def test_min_connections_are_kept_warm(make_pool):
    pool = make_pool(min_size=2, max_size=4)
    assert eventually(lambda: pool.stats()["pool_available"] == 2)
    stats = pool.stats()
    assert stats["requests_num"] == 0 and stats["connections_num"] == 2 and stats["pool_size"] == 2


def test_return_rolls_back_an_open_transaction(make_pool, db):
    pool = make_pool(max_size=1)
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO customers (name) VALUES ('left open')")
    pool.putconn(conn)
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers WHERE name = 'left open'")
        assert cur.fetchone() == (0,)
    again = pool.getconn()
    assert again is conn and again.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    pool.putconn(again)


def test_a_failed_statement_is_rolled_back_and_the_connection_reused(make_pool):
    pool = make_pool(max_size=1)
    conn = pool.getconn()
    with pytest.raises(psycopg2.errors.DivisionByZero):
        with conn.cursor() as cur:
            cur.execute("SELECT 1 / 0")
    pool.putconn(conn)
    assert pool.stats()["returns_bad"] == 0
    with pool.connection() as again, again.cursor() as cur:
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,) and again is conn


def test_connection_block_commits_on_success_and_rolls_back_on_error(make_pool, db):
    pool = make_pool()
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO customers (name) VALUES ('committed')")
    with pytest.raises(RuntimeError):
        with pool.connection() as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO customers (name) VALUES ('rolled back')")
            raise RuntimeError("the block failed")
    with db.cursor() as cur:
        cur.execute("SELECT name FROM customers WHERE name IN ('committed', 'rolled back')")
        assert cur.fetchall() == [("committed",)]
    assert pool.stats()["pool_in_use"] == 0


def test_a_closed_connection_is_discarded_on_return(make_pool):
    pool = make_pool(max_size=1)
    conn = pool.getconn()
    pid = backend_pid(conn)
    conn.close()
    pool.putconn(conn)
    stats = pool.stats()
    assert stats["returns_bad"] == 1 and stats["pool_size"] == 0
    with pool.connection() as fresh:
        assert backend_pid(fresh) != pid


def test_returning_twice_is_logged_not_raised(make_pool, caplog):
    pool = make_pool(max_size=1)
    conn = pool.getconn()
    pool.putconn(conn)
    with caplog.at_level(logging.WARNING, logger="apps.api.db.pool"):
        pool.putconn(conn)
    assert "not lent out" in caplog.text and f"{__name__}:" in caplog.text
    stats = pool.stats()
    assert stats["pool_available"] == 1 and stats["pool_in_use"] == 0


def test_connections_past_their_lifetime_are_replaced(make_pool):
    pool = make_pool(max_size=1, max_lifetime=0.3)
    conn = pool.getconn()
    first = backend_pid(conn)
    pool.putconn(conn)
    assert eventually(lambda: pool.stats()["connections_expired"] == 1)  # closed while idle
    with pool.connection() as conn:
        assert backend_pid(conn) != first
        time.sleep(0.35)  # outlive the lifetime while lent out: closed on return
    stats = pool.stats()
    assert stats["connections_expired"] == 2 and stats["pool_size"] == 0 and stats["returns_bad"] == 0


def test_idle_connections_above_min_are_closed(make_pool):
    pool = make_pool(min_size=1, max_size=3, max_idle=0.3)
    held = [pool.getconn() for _ in range(3)]
    for conn in held:
        pool.putconn(conn)
    assert eventually(lambda: pool.stats()["pool_size"] == 1)
    stats = pool.stats()
    assert stats["connections_idle_closed"] == 2 and stats["pool_available"] == 1
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_leak_is_reported_once_with_the_borrowers_location(make_pool, caplog):
    pool = make_pool(leak_threshold=0.1)
    with caplog.at_level(logging.WARNING, logger="apps.api.db.pool"):
        conn = pool.getconn(); line = sys._getframe().f_lineno  # noqa: E702 (same line on purpose)
        assert eventually(lambda: pool.stats()["leaks_detected"] == 1)
        time.sleep(0.3)  # more maintenance rounds pass: still reported once
        where = f"{__name__}:{line} (test_leak_is_reported_once_with_the_borrowers_location)"
        assert pool.stats()["leaks_detected"] == 1 and pool.stats()["leaks_open"] == 1
        assert pool.leaks()[0]["where"] == where
        assert [r for r in caplog.records if "possible connection leak" in r.getMessage()][0].getMessage().count(
            where) == 1
        assert sum("possible connection leak" in r.getMessage() for r in caplog.records) == 1
        pool.putconn(conn)
    assert pool.stats()["leaks_open"] == 0 and pool.leaks() == []


def test_leak_report_names_the_view_not_the_db_helpers(app, caplog):
    app.config["DB_POOL_LEAK_THRESHOLD"] = 0.1
    with app.app_context(), caplog.at_level(logging.WARNING, logger="apps.api.db.pool"):
        with db_module.cursor() as cur:  # the borrower
            line = sys._getframe().f_lineno - 1
            pool = db_module.get_pool()
            assert eventually(lambda: pool.stats()["leaks_detected"] == 1)
            cur.execute("SELECT 1")
    assert f"{__name__}:{line} (test_leak_report_names_the_view_not_the_db_helpers)" in caplog.text


def test_fork_is_refused_and_the_parents_sessions_survive(make_pool):
    pool = make_pool(max_size=2)
    conn = pool.getconn()
    pid = backend_pid(conn)
    pool.putconn(conn)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: it must not use the pool, and letting go must not end the parent's session
        outcome = b"used"
        try:
            pool.getconn()
        except PoolForkError:
            outcome = b"refused"
        except BaseException:
            outcome = b"other"
        finally:
            try:
                pool.close()
                del pool
                import gc
                gc.collect()
            finally:
                os.write(write_end, outcome)
                os._exit(0)
    os.close(write_end)
    outcome = os.read(read_end, 16)
    os.waitpid(child, 0)
    os.close(read_end)
    assert outcome == b"refused"
    with pool.connection() as conn:
        assert backend_pid(conn) == pid  # same session, still alive
    assert pool.stats()["connections_lost"] == 0 and pool.stats()["connections_num"] == 1


def test_a_closed_pool_refuses_and_wakes_its_waiters(make_pool):
    pool = make_pool(max_size=1, timeout=5)
    conn = pool.getconn()
    results = []
    thread = borrow_in_thread(pool, results, "waiter")
    assert eventually(lambda: pool.stats()["requests_waiting"] == 1)
    pool.close()
    thread.join(5)
    assert results == [("waiter", "PoolClosed")]
    with pytest.raises(PoolClosed):
        pool.getconn()
    pool.putconn(conn)  # a late return does not raise
    assert conn.closed


def test_unreachable_server_times_out_with_counted_connect_errors(make_pool):
    pool = make_pool(dsn="postgresql://postgres@127.0.0.1:1/nothing", timeout=0.3)
    with pytest.raises(PoolTimeout, match="could not connect"):
        pool.getconn()
    stats = pool.stats()
    assert stats["connections_errors"] >= 2 and stats["connections_num"] == stats["connections_errors"]
    assert stats["requests_errors"] == 1 and stats["pool_size"] == 0 and stats["errors_recent"] >= 3


def test_statistics_move(make_pool):
    pool = make_pool(max_size=1)
    with pool.connection():
        time.sleep(0.02)
    results = []
    conn = pool.getconn()
    thread = borrow_in_thread(pool, results, "waiter")
    assert eventually(lambda: pool.stats()["requests_waiting"] == 1)
    time.sleep(0.02)
    pool.putconn(conn)
    thread.join(5)
    stats = pool.stats()
    assert stats["requests_num"] == 3 and stats["requests_queued"] == 1
    assert stats["requests_wait_ms"] > 0 and stats["requests_wait_max_ms"] > 0
    assert stats["usage_ms"] > 0 and stats["connections_num"] == 1 and stats["connections_ms"] > 0
    assert 0 < stats["acquire_ms_p50"] <= stats["acquire_ms_p95"] <= stats["acquire_ms_p99"]
    assert stats["age_s"] > 0


def test_connections_carry_the_session_settings(app):
    with app.app_context(), db_module.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT current_setting('application_name'), current_setting('statement_timeout'), "
                    "current_setting('idle_in_transaction_session_timeout'), current_setting('TimeZone')")
        name, statement_timeout, idle_timeout, zone = cur.fetchone()
        client_side = conn.info.dsn_parameters
    assert client_side["connect_timeout"] == "5" and client_side["tcp_user_timeout"] == "5000"
    assert name == f"printshop:pool:{os.getpid()}"
    assert statement_timeout == "25s" and idle_timeout == "30s" and zone == "UTC"


def test_psycopg2s_pool_is_used_only_through_its_public_methods():
    """The records (ages, borrowers, idle list, statistics) are ours: nothing reaches into psycopg2's pool."""
    import ast
    from pathlib import Path

    from apps.api.db import pool as pool_module
    from apps.api.db import registry

    attributes = [node for module in (registry, pool_module)
                  for node in ast.walk(syntax_tree(Path(module.__file__)))
                  if isinstance(node, ast.Attribute)]
    private = {"_used", "_rused", "_pool", "_getkey", "_keys", "_connect", "_putconn", "_getconn"}
    assert not {node.attr for node in attributes} & private
    on_psycopg2_pool = {node.attr for node in attributes
                        if isinstance(node.value, ast.Attribute) and node.value.attr == "_threaded"}
    assert on_psycopg2_pool == {"getconn", "putconn", "closeall"}


def test_closing_the_pool_closes_lent_and_idle_connections(make_pool):
    pool = make_pool(min_size=0, max_size=2)
    lent, idle = pool.getconn(), pool.getconn()
    pool.putconn(idle)
    pool.close()
    assert lent.closed and idle.closed
    pool.putconn(lent)  # a late return after close is harmless
