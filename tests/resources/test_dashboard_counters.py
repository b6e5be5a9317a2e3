"""The dashboard counters: every write path keeps them right, and concurrent writers never deadlock on them."""
import random
import threading

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest

from apps.api.tools.cli import counter_drift
from apps.api.tools.seed import seed
from tests.support.database import reset_database
from tests.support.factories import add_customer, add_job
from tests.support.rows import naive_stats


def sql(db, statement, params=None):
    with db.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else None


def add_many_jobs(db, customer_id, count, first=1):
    """Insert `count` jobs in one statement (every status, due dates and months spread), 3 steps each."""
    sql(db, """
        WITH new_jobs AS (
            INSERT INTO jobs (customer_id, title, status, due_date, created_at)
            SELECT %(customer)s, 'Bulk ' || i,
                   (ARRAY['draft', 'active', 'in_progress', 'on_hold', 'completed', 'cancelled'])[1 + i %% 6],
                   CASE WHEN i %% 7 <> 0 THEN current_date + (i %% 40) - 20 END,
                   now() - make_interval(days => i %% 420)
            FROM generate_series(%(first)s::int, %(last)s::int) AS i
            RETURNING id)
        INSERT INTO job_steps (job_id, step_order, process_id, name, status, assigned_to)
        SELECT j.id, s, p.id, p.name, 'pending',
               (SELECT id FROM users WHERE username = 'operator' || (1 + (j.id + s) %% 5))
        FROM new_jobs j CROSS JOIN generate_series(1, 3) AS s JOIN processes p ON p.default_order = s
    """, {"customer": customer_id, "first": first, "last": first + count - 1})


def test_a_fresh_database_has_consistent_zero_counters(database_url, db):
    assert counter_drift(database_url) == []
    assert sql(db, "SELECT coalesce(sum(n), 0) FROM dashboard_counts WHERE counter = 'job_status'")[0][0] == 0


def test_every_kind_of_write_keeps_the_counters_right(database_url, db, auth):
    customer = add_customer(db)
    add_many_jobs(db, customer, 2000)
    assert counter_drift(database_url) == []
    steps = [
        "UPDATE jobs SET status = 'completed' WHERE id %% 3 = 0",                       # bulk status change
        "UPDATE jobs SET due_date = due_date - 30 WHERE id %% 5 = 0",                   # bulk due date change
        "UPDATE jobs SET created_at = created_at - interval '45 days' WHERE id %% 11 = 0",  # months move
        "UPDATE jobs SET title = title || '!' WHERE id %% 2 = 0",                       # no count moves
        "UPDATE job_steps SET status = 'skipped' WHERE id %% 4 = 0",
        "UPDATE job_steps SET assigned_to = NULL WHERE id %% 9 = 0",
        "UPDATE job_steps SET assigned_to = %(op1)s WHERE assigned_to IS NULL AND id %% 2 = 0",
        "DELETE FROM job_steps WHERE id %% 13 = 0",
        "DELETE FROM jobs WHERE id %% 17 = 0",                                         # cascades to steps
        "DELETE FROM users WHERE username = 'operator5'",                               # steps SET NULL
        "INSERT INTO jobs (customer_id, title, status) VALUES (%(customer)s, 'One more', 'on_hold')",
    ]
    for statement in steps:
        sql(db, statement, {"op1": auth.user_id("operator1"), "customer": customer})
        assert counter_drift(database_url) == [], statement
    assert naive_stats(db, auth.user_id("operator1"))["jobs"]["total"] == \
        sql(db, "SELECT coalesce(sum(n), 0) FROM dashboard_counts WHERE counter = 'job_status'")[0][0]


def test_transactions_savepoints_and_time_zones(database_url, db):
    customer = add_customer(db)
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'America/New_York'")
            cur.execute("INSERT INTO jobs (customer_id, title, created_at) "
                        "VALUES (%s, 'Late evening', '2026-01-31 23:30-05')", (customer,))
            cur.execute("SAVEPOINT before_mistake")
            cur.execute("UPDATE jobs SET status = 'cancelled'")
            cur.execute("ROLLBACK TO SAVEPOINT before_mistake")
            cur.execute("INSERT INTO jobs (customer_id, title, status) VALUES (%s, 'Kept', 'active')", (customer,))
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO jobs (customer_id, title) VALUES (%s, 'Rolled back')", (customer,))
            conn.rollback()
    finally:
        conn.close()
    assert counter_drift(database_url) == []
    assert sql(db, "SELECT day::text, n FROM dashboard_counts "
                   "WHERE counter = 'job_month' AND day < '2026-03-01'") == [("2026-02-01", 1)]
    assert dict(sql(db, "SELECT status, n FROM dashboard_counts "
                        "WHERE counter = 'job_status' AND n > 0")) == {"draft": 1, "active": 1}


def test_a_bulk_update_adds_one_delta_per_counter_moved(database_url, db):
    add_many_jobs(db, add_customer(db), 10_000)
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET track_functions = 'pl'")
            cur.execute("UPDATE jobs SET status = 'cancelled' WHERE status IN ('draft', 'active')")
            moved = cur.rowcount
            cur.execute("SELECT pg_stat_get_xact_function_calls('dashboard_jobs_changed'::regproc), "
                        "pg_stat_get_xact_tuples_inserted('dashboard_count_deltas'::regclass), "
                        "(SELECT count(DISTINCT due_date) FROM jobs WHERE status = 'cancelled')")
            trigger_calls, deltas, due_dates = cur.fetchone()
    finally:
        conn.close()
    assert moved > 3000
    assert trigger_calls == 1
    # draft, active and cancelled, the open due dates that closed and the open total: once each, not per row.
    assert 4 <= deltas <= 4 + due_dates < 100
    assert counter_drift(database_url) == []


def test_compaction_folds_committed_deltas_into_the_base(database_url, db):
    customer = add_customer(db)
    add_many_jobs(db, customer, 300)
    sql(db, "DO $$ BEGIN FOR i IN 1..1000 LOOP "
            "INSERT INTO jobs (customer_id, title) SELECT min(id), 'One of many' FROM customers; END LOOP; END $$")
    # One statement in 50 compacts: after 1,000 single-row statements the deltas cannot all be there.
    assert sql(db, "SELECT count(*) FROM dashboard_count_deltas")[0][0] < 3 * 1000
    assert counter_drift(database_url) == []
    sql(db, "SELECT dashboard_compact_counts()")
    assert sql(db, "SELECT count(*) FROM dashboard_count_deltas")[0][0] == 0
    assert sql(db, "SELECT count(*) FROM dashboard_count_base WHERE n = 0")[0][0] == 0
    assert counter_drift(database_url) == []


def test_compaction_never_waits_and_skips_snapshot_transactions(database_url, db):
    customer = add_customer(db)
    holder = psycopg2.connect(database_url)
    snapshot = psycopg2.connect(database_url)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT dashboard_compact_counts()")  # holds the compaction lock until rollback
        add_job(db, customer, "active")
        with db.cursor() as cur:
            cur.execute("SET lock_timeout = '1s'")
            cur.execute("SELECT dashboard_compact_counts()")  # returns at once: someone else compacts
        assert sql(db, "SELECT count(*) FROM dashboard_count_deltas")[0][0] > 0
        holder.rollback()
        snapshot.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        with snapshot, snapshot.cursor() as cur:
            cur.execute("SELECT dashboard_compact_counts()")
        assert sql(db, "SELECT count(*) FROM dashboard_count_deltas")[0][0] > 0
    finally:
        holder.close()
        snapshot.close()
    assert counter_drift(database_url) == []


def test_truncate_resets_the_counters(database_url, db):
    customer = add_customer(db)
    add_many_jobs(db, customer, 50)
    sql(db, "TRUNCATE jobs CASCADE")
    assert counter_drift(database_url) == []
    assert sql(db, "SELECT count(*) FROM dashboard_counts WHERE counter = 'step'")[0][0] == 0
    add_job(db, customer, "active")
    assert dict(sql(db, "SELECT status, n FROM dashboard_counts "
                        "WHERE counter = 'job_status' AND n > 0")) == {"active": 1}


def test_the_test_reset_restores_consistent_counters(test_database, database_url, db):
    add_many_jobs(db, add_customer(db), 30)
    reset_database(*test_database)
    assert counter_drift(database_url) == []
    assert sql(db, "SELECT coalesce(sum(n), 0) FROM dashboard_counts WHERE counter = 'job_status'")[0][0] == 0


def test_opposite_write_orders_do_not_deadlock(database_url, db, auth):
    """Job then step in one transaction, step then job in another: writers never lock counter rows."""
    customer, op1 = add_customer(db), auth.user_id("operator1")
    first = add_job(db, customer, "draft", steps=[(op1, "pending")])
    second = add_job(db, customer, "draft", steps=[(op1, "pending")])
    a, b = psycopg2.connect(database_url), psycopg2.connect(database_url)
    try:
        for conn in (a, b):
            with conn.cursor() as cur:
                cur.execute("SET lock_timeout = '3s'")  # a wait would fail the test instead of hanging it
        a.cursor().execute("UPDATE jobs SET status = 'active' WHERE id = %s", (first,))
        b.cursor().execute("UPDATE job_steps SET status = 'skipped' WHERE job_id = %s", (second,))
        a.cursor().execute("UPDATE job_steps SET status = 'skipped' WHERE job_id = %s", (first,))
        b.cursor().execute("UPDATE jobs SET status = 'active' WHERE id = %s", (second,))
        a.commit()
        b.commit()
    finally:
        a.close()
        b.close()
    assert counter_drift(database_url) == []
    assert dict(sql(db, "SELECT status, n FROM dashboard_counts WHERE counter = 'step' AND user_id = %s AND n <> 0",
                    (op1,))) == {"skipped": 2}


def _writer(database_url, customer_id, operators, rounds, seed_value, errors):
    """Mixed transactions on this writer's own customer's jobs (so only the counters are shared)."""
    rng = random.Random(seed_value)
    conn = psycopg2.connect(database_url)
    try:
        for _ in range(rounds):
            try:
                with conn, conn.cursor() as cur:
                    choice = rng.random()
                    cur.execute("SELECT id FROM jobs WHERE customer_id = %s ORDER BY id", (customer_id,))
                    mine = [row[0] for row in cur.fetchall()]
                    if choice < 0.35 or not mine:  # job, then its steps
                        cur.execute("INSERT INTO jobs (customer_id, title, status, due_date) VALUES "
                                    "(%s, 'Writer job', %s, current_date - %s) RETURNING id",
                                    (customer_id, rng.choice(["draft", "active"]), rng.randint(-5, 5)))
                        job_id = cur.fetchone()[0]
                        cur.execute("INSERT INTO job_steps (job_id, step_order, process_id, name, assigned_to) "
                                    "SELECT %s, s, 1 + s %% 7, 'Step', %s FROM generate_series(1, 3) s",
                                    (job_id, rng.choice(operators)))
                    elif choice < 0.7:  # a step, then its job
                        job_id = rng.choice(mine)
                        cur.execute("UPDATE job_steps SET status = 'skipped' WHERE id = "
                                    "(SELECT min(id) FROM job_steps WHERE job_id = %s AND status = 'pending')",
                                    (job_id,))
                        cur.execute("UPDATE jobs SET status = %s WHERE id = %s",
                                    (rng.choice(["in_progress", "on_hold", "completed"]), job_id))
                    elif choice < 0.85:  # bulk update of this writer's jobs
                        cur.execute("UPDATE jobs SET status = %s, due_date = due_date + 1 WHERE customer_id = %s",
                                    (rng.choice(["active", "on_hold", "cancelled"]), customer_id))
                    else:  # delete a job with its steps
                        cur.execute("DELETE FROM jobs WHERE id = %s", (rng.choice(mine),))
            except psycopg2.Error as exc:
                errors.append(exc)
    finally:
        conn.close()


def test_eight_concurrent_writers_never_deadlock_and_leave_no_drift(database_url, db, auth):
    operators = [auth.user_id(f"operator{n}") for n in range(1, 6)]
    customers = [add_customer(db, f"Writer {n}") for n in range(8)]
    errors = []
    threads = [threading.Thread(target=_writer, args=(database_url, customer, operators, 40, n, errors))
               for n, customer in enumerate(customers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counter_drift(database_url) == []
    counted_jobs = sql(db, "SELECT coalesce(sum(n), 0) FROM dashboard_counts WHERE counter = 'job_status'")[0][0]
    assert counted_jobs == sql(db, "SELECT count(*) FROM jobs")[0][0] > 0


def test_concurrent_api_writes_leave_no_drift(app, auth, db, database_url):
    app.config["DB_POOL_MAX_CONNECTIONS"] = 10
    client = app.test_client()
    manager, customer = auth.headers("manager"), add_customer(db)
    process = sql(db, "SELECT id FROM processes WHERE code = 'print'")[0][0]
    operators = [auth.user_id(f"operator{n}") for n in range(1, 6)]
    failures = []

    def work(n):
        for _ in range(4):
            steps = [{"process_id": process, "assigned_to": operators[(n + i) % 5]} for i in range(3)]
            created = client.post("/api/jobs", headers=manager, json={
                "customer_id": customer, "title": f"API job {n}", "status": "active", "steps": steps})
            if created.status_code != 201:
                failures.append(created.get_json())
                continue
            job = created.get_json()
            for step, status in zip(job["steps"], ("in_progress", "skipped")):  # step, then job
                response = client.patch(f"/api/steps/{step['id']}", headers=manager, json={"status": status})
                if response.status_code != 200:
                    failures.append(response.get_json())
            if n % 2:
                response = client.delete(f"/api/jobs/{job['id']}", headers=manager)
                if response.status_code != 204:
                    failures.append(response.get_json())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert counter_drift(database_url) == []
    assert sql(db, "SELECT n FROM dashboard_counts WHERE counter = 'job_status' AND status = 'in_progress'")[0][0] == 16


def test_verify_reports_drift_and_rebuild_repairs_it(runner, db):
    add_many_jobs(db, add_customer(db), 20)
    result = runner.invoke(args=["dashboard", "verify"])
    assert result.exit_code == 0 and "no drift" in result.output
    sql(db, "INSERT INTO dashboard_count_deltas VALUES ('job_status', 'draft', '-infinity', 0, 5)")
    sql(db, "DELETE FROM dashboard_count_base WHERE counter = 'job_month'")
    sql(db, "DELETE FROM dashboard_count_deltas WHERE counter = 'job_month'")
    result = runner.invoke(args=["dashboard", "verify"])
    assert result.exit_code == 1
    assert "drifted" in result.output and "job_status" in result.output and "job_month" in result.output
    result = runner.invoke(args=["dashboard", "rebuild"])
    assert result.exit_code == 0 and "were wrong" in result.output
    assert runner.invoke(args=["dashboard", "verify"]).exit_code == 0
    assert "all were right" in runner.invoke(args=["dashboard", "rebuild"]).output


@pytest.mark.parametrize("command", ["verify", "rebuild"])
def test_cli_without_a_database_says_so(runner, app, command):
    app.config["DATABASE_URL"] = ""
    result = runner.invoke(args=["dashboard", command])
    assert result.exit_code != 0 and "no database" in result.output


def test_a_seed_leaves_no_drift(database_url, db, auth):
    seed(database_url, jobs=1500, customers=30, seed_value=5, progress=lambda line: None)
    assert counter_drift(database_url) == []
    operator = auth.user_id("operator3")
    naive = naive_stats(db, operator)
    counted_jobs = sql(db, "SELECT coalesce(sum(n), 0) FROM dashboard_counts WHERE counter = 'job_status'")[0][0]
    assert counted_jobs == naive["jobs"]["total"] == 1500
    counted = dict(sql(db, "SELECT status, n FROM dashboard_counts WHERE counter = 'step' AND user_id = %s",
                       (operator,)))
    assert {status: counted.get(status, 0) for status in naive["tasks"]} == naive["tasks"]
