"""GET /api/dashboard/overdue-jobs: what needs action first, on-hold jobs apart, counts, kept fresh."""
from datetime import timedelta

import pytest

from tests.support.auth import get_as
from tests.support.factories import add_customer, add_job, utc_today
from tests.support.waiting import eventually

PATH = "/api/dashboard/overdue-jobs"


def _job(db, customer, status, days_late, priority, title):
    job_id = add_job(db, customer, status, utc_today() - timedelta(days=days_late), title=title)
    with db.cursor() as cur:
        cur.execute("UPDATE jobs SET priority = %s WHERE id = %s", (priority, job_id))
    return job_id


@pytest.fixture
def late(db):
    customer = add_customer(db, "Harbor Bakery")
    _job(db, customer, "active", 400, "low", "old low")
    _job(db, customer, "in_progress", 2, "normal", "recent normal")
    _job(db, customer, "active", 30, "urgent", "month-late urgent")
    _job(db, customer, "draft", 1, "urgent", "yesterday urgent")
    _job(db, customer, "in_progress", 5, "high", "high")
    _job(db, customer, "on_hold", 700, "urgent", "held 2024")
    _job(db, customer, "on_hold", 3, "normal", "held recent")
    _job(db, customer, "completed", 10, "urgent", "done")
    _job(db, customer, "active", 0, "urgent", "due today")  # not overdue yet
    _job(db, customer, "cancelled", 3, "urgent", "cancelled")
    return customer


def test_needs_action_first_by_priority_then_most_recently_due_and_on_hold_apart(client, auth, late):
    body = get_as(client, auth, PATH, "viewer").get_json()
    assert [job["title"] for job in body["items"]] == [
        "yesterday urgent", "month-late urgent", "high", "recent normal", "old low"]
    assert [job["title"] for job in body["on_hold"]] == ["held 2024", "held recent"]
    assert body["counts"] == {"needs_action": 5, "on_hold": 2}
    first = body["items"][0]
    assert first["days_overdue"] == 1 and first["customer_name"] == "Harbor Bakery" and first["priority"] == "urgent"


def test_limit_cuts_each_list_not_the_counts(client, auth, late):
    body = get_as(client, auth, f"{PATH}?limit=2", "viewer").get_json()
    assert (len(body["items"]), len(body["on_hold"])) == (2, 2)
    assert body["counts"] == {"needs_action": 5, "on_hold": 2}
    assert get_as(client, auth, f"{PATH}?limit=0", "viewer").status_code == 422


def test_a_priority_change_reaches_the_cached_list(client, auth, late, db):
    assert get_as(client, auth, PATH, "viewer").headers["X-Cache"] == "MISS"
    assert get_as(client, auth, PATH, "viewer").headers["X-Cache"] == "HIT"
    with db.cursor() as cur:
        cur.execute("UPDATE jobs SET priority = 'urgent' WHERE title = 'old low'")

    def first_is_old_low():
        items = get_as(client, auth, PATH, "viewer").get_json()["items"]
        return [job["title"] for job in items][:3] == ["yesterday urgent", "month-late urgent", "old low"]

    assert eventually(first_is_old_low, timeout=3)


def test_the_lists_are_read_through_their_partial_indexes(db):
    """Each list's statement matches its index's predicate and order (on a tiny table: ask which index would)."""
    from apps.api.db import Queries

    queries = Queries("dashboard.sql")
    with db.cursor() as cur:
        # A test database holds a few jobs, and statistics other tests left behind may say fewer: the plan asked for
        # is the ordered walk of the partial index, which is what the 1M-job bench shows it chooses.
        cur.execute("BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off;"
                    " SET LOCAL enable_bitmapscan = off")
        plans = []
        for on_hold in (False, True):
            cur.execute("EXPLAIN " + queries.list_overdue_jobs, {"on_hold": on_hold, "limit": 10})
            plans.append("\n".join(row[0] for row in cur.fetchall()))
        cur.execute("ROLLBACK")
    assert "idx_jobs_overdue_action" in plans[0] and "idx_jobs_overdue_on_hold" in plans[1], plans
    assert all("Sort" not in plan for plan in plans), plans  # the order is the index's own
