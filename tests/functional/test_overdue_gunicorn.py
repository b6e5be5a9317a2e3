"""Overdue announcements with two gunicorn instances of two workers each: one scheduler sweeps (an advisory
lock elects it), each overdue job is announced exactly once, and the lock passes on when its holder stops."""
import time
from datetime import timedelta

import pytest

from apps.api.ops.overdue import LOCK_KEY
from tests.support.factories import add_customer, utc_today
from tests.support.gunicorn import GunicornServer
from tests.support.rows import process_ids
from tests.support.waiting import eventually

SWEEP_SECONDS = "0.2"


def late_job(db, operator_ids):
    """An open job that became overdue yesterday, with a step for each operator, in one transaction (as the API
    creates a job): a sweep between the job and its steps would announce it to the managers only."""
    processes, customer_id = process_ids(db), add_customer(db, "Late Ltd")
    db.autocommit = False
    try:
        with db, db.cursor() as cur:
            cur.execute("INSERT INTO jobs (customer_id, title, status, due_date) VALUES (%s, 'Late', 'active', %s) "
                        "RETURNING id", (customer_id, utc_today() - timedelta(days=1)))
            job_id = cur.fetchone()[0]
            for order, user_id in enumerate(operator_ids, 1):
                cur.execute("INSERT INTO job_steps (job_id, step_order, process_id, name, assigned_to) "
                            "VALUES (%s, %s, %s, 'Print', %s)", (job_id, order, processes["print"], user_id))
    finally:
        db.autocommit = True
    return job_id


def overdue_notifications(db, job_id):
    with db.cursor() as cur:
        cur.execute("SELECT user_id, count(*) FROM notifications WHERE kind = 'job_overdue' AND job_id = %s "
                    "GROUP BY user_id", (job_id,))
        return dict(cur.fetchall())


def schedulers(db):
    """(sessions of schedulers, holders of the lock)."""
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'printshop:overdue:%%'")
        sessions = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND (classid::bigint << 32) + objid::bigint = %s", (LOCK_KEY,))
        return sessions, cur.fetchone()[0]


@pytest.mark.multiprocess
def test_each_overdue_job_is_announced_once_by_one_of_four_workers(database_url, db, auth, tmp_path):
    operators = [auth.user_id("operator1"), auth.user_id("operator2")]
    expected = {operators[0]: 1, operators[1]: 1, auth.user_id("manager"): 1}
    env = {"OVERDUE_CHECK_SECONDS": SWEEP_SECONDS}
    first = GunicornServer(database_url, workers=2, env=env, log_path=tmp_path / "first.log").start()
    try:
        with GunicornServer(database_url, workers=2, env=env, log_path=tmp_path / "second.log"):
            # four schedulers, one leader
            assert eventually(lambda: schedulers(db) == (4, 1), timeout=15.0, step=0.1), schedulers(db)
            job_id = late_job(db, operators)
            assert eventually(lambda: overdue_notifications(db, job_id) == expected, timeout=15.0, step=0.1)
            time.sleep(10 * float(SWEEP_SECONDS))  # ten more sweeps: nothing more
            assert overdue_notifications(db, job_id) == expected
        # The second instance is gone (its leader with it, perhaps): a scheduler of the first one takes over.
        assert eventually(lambda: schedulers(db) == (2, 1), timeout=15.0, step=0.1), schedulers(db)
        another = late_job(db, operators)
        assert eventually(lambda: overdue_notifications(db, another) == expected, timeout=15.0, step=0.1), (
            schedulers(db), (tmp_path / "first.log").read_text()[-6000:])
        time.sleep(5 * float(SWEEP_SECONDS))
        assert overdue_notifications(db, another) == expected and overdue_notifications(db, job_id) == expected
    finally:
        first.stop()
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM overdue_notices")
        assert cur.fetchone()[0] == 2
