"""The dashboard routes: contract shapes, counts that agree with the base tables, and freshness after writes."""
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tests.support.auth import get_as
from tests.support.factories import add_customer, add_job
from tests.support.rows import naive_stats
from tests.support.waiting import eventually

FRESH_WITHIN = 1.0  # seconds: the contract's bound for a write to reach every cached answer


def get(client, auth, path, user="admin", **headers):
    return get_as(client, auth, path, user, **headers)


def last_months(count, today):
    """Return the first days of the `count` months up to and including today's, oldest first."""
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def test_a_write_in_plain_sql_reaches_the_cached_stats(client, auth, db, shop):
    first = get(client, auth, "/api/dashboard/stats")
    assert first.headers["X-Cache"] == "MISS"
    assert get(client, auth, "/api/dashboard/stats").headers["X-Cache"] == "HIT"
    add_job(db, shop, "draft")
    fresh = eventually(lambda: get(client, auth, "/api/dashboard/stats").get_json()["jobs"]["draft"] == 2,
                       timeout=FRESH_WITHIN)
    assert fresh, "the cached stats still showed the old draft count 1 s after the insert"


def test_api_writes_reach_every_dashboard_answer(client, auth, db, shop):
    paths = ["/api/dashboard/stats", "/api/dashboard/recent-jobs", "/api/dashboard/chart/jobs-by-status",
             "/api/dashboard/chart/jobs-by-month"]
    before = {path: get(client, auth, path).get_json() for path in paths}
    assert all(get(client, auth, path).headers["X-Cache"] == "HIT" for path in paths)
    response = client.post("/api/jobs", headers=auth.headers("manager"),
                           json={"customer_id": shop, "title": "Vehicle wrap", "status": "active"})
    assert response.status_code == 201, response.get_json()

    def all_changed():
        return all(get(client, auth, path).get_json() != before[path] for path in paths)

    assert eventually(all_changed, timeout=FRESH_WITHIN), "some dashboard answer was still the pre-write one after 1 s"
    assert get(client, auth, "/api/dashboard/recent-jobs").get_json()["items"][0]["title"] == "Vehicle wrap"


def test_a_step_change_reaches_the_assignees_tasks(client, auth, db, shop):
    assert get(client, auth, "/api/dashboard/stats", "operator2").get_json()["tasks"]["pending"] == 1
    with db.cursor() as cur:
        cur.execute("UPDATE job_steps SET status = 'skipped' WHERE assigned_to = %s AND status = 'pending'",
                    (auth.user_id("operator2"),))

    def pending():
        return get(client, auth, "/api/dashboard/stats", "operator2").get_json()["tasks"]["pending"]

    assert eventually(lambda: pending() == 0, timeout=FRESH_WITHIN)


def test_renaming_a_customer_reaches_the_recent_jobs(client, auth, db, shop):
    assert get(client, auth, "/api/dashboard/recent-jobs").get_json()["items"][0]["customer_name"] == "Acme Signs"
    with db.cursor() as cur:
        cur.execute("UPDATE customers SET name = 'Acme Signs & Graphics' WHERE id = %s", (shop,))
    assert eventually(lambda: get(client, auth, "/api/dashboard/recent-jobs").get_json()["items"][0]["customer_name"]
                    == "Acme Signs & Graphics", timeout=FRESH_WITHIN)


def test_machine_and_user_changes_reach_the_stats(client, auth, db, shop):
    assert get(client, auth, "/api/dashboard/stats").get_json()["machines"]["offline"] == 0
    with db.cursor() as cur:
        cur.execute("UPDATE machines SET status = 'offline' WHERE name = 'Latex'")
        cur.execute("UPDATE users SET role = 'manager' WHERE username = 'viewer'")

    def changed():
        body = get(client, auth, "/api/dashboard/stats").get_json()
        return body["machines"]["offline"] == 1 and body["users"]["managers"] == 2

    assert eventually(changed, timeout=FRESH_WITHIN)


def test_dashboard_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/dashboard/stats", "/api/dashboard/recent-jobs", "/api/dashboard/chart/jobs-by-status",
                 "/api/dashboard/chart/jobs-by-month", "/api/health/cache", "/api/health/cache/clear"):
        assert path in paths
    months = paths["/api/dashboard/chart/jobs-by-month"]["get"]["parameters"]
    assert [p["name"] for p in months] == ["months"]
    assert paths["/api/health/cache/clear"]["post"]["x-required-role"] == "admin"


@pytest.fixture
def shop(db, auth):
    """A few jobs in every status, with steps for two operators, and the machines of a small shop."""
    op1, op2 = auth.user_id("operator1"), auth.user_id("operator2")
    customer = add_customer(db)
    today = datetime.now(UTC).date()
    add_job(db, customer, "draft", today - timedelta(days=2), steps=[(op1, "pending"), (op2, "pending")])
    add_job(db, customer, "active", today - timedelta(days=1), steps=[(op1, "pending")])
    add_job(db, customer, "in_progress", today, steps=[(op1, "completed"), (op1, "in_progress")])
    add_job(db, customer, "on_hold", None, steps=[(op2, "in_progress"), (None, "pending")])
    add_job(db, customer, "completed", today - timedelta(days=30), steps=[(op1, "completed"), (op2, "skipped")])
    add_job(db, customer, "cancelled", today - timedelta(days=5))
    with db.cursor() as cur:
        cur.execute("INSERT INTO machines (name, machine_type, status, is_active) VALUES "
                    "('Latex', 'printer', 'active', true), ('Cutter', 'cutter', 'idle', true), "
                    "('Old RIP', 'rip', 'offline', false), ('Laminator', 'laminator', 'maintenance', true)")
        cur.execute("UPDATE users SET is_active = false WHERE username = 'operator5'")
    return customer


def test_stats_has_the_contract_shape_and_right_counts(client, auth, shop):
    body = get(client, auth, "/api/dashboard/stats", "operator1").get_json()
    assert body["jobs"] == {"draft": 1, "active": 1, "in_progress": 1, "on_hold": 1, "completed": 1,
                            "cancelled": 1, "total": 6, "overdue": 2}
    assert body["tasks"] == {"pending": 2, "in_progress": 1, "paused": 0, "completed": 2, "skipped": 0}
    assert body["machines"] == {"active": 1, "idle": 1, "maintenance": 1, "offline": 0}
    assert body["users"] == {"admins": 1, "managers": 1, "operators": 5, "viewers": 1, "active": 7}


def test_stats_agree_with_the_naive_query(client, auth, db, shop):
    for user in ("operator1", "operator2", "viewer"):
        body = get(client, auth, "/api/dashboard/stats", user).get_json()
        naive = naive_stats(db, auth.user_id(user))
        assert body == {key: naive[key] for key in ("jobs", "tasks", "machines", "users")}


def test_tasks_are_the_callers_own(client, auth, shop):
    assert get(client, auth, "/api/dashboard/stats", "operator2").get_json()["tasks"] == {
        "pending": 1, "in_progress": 1, "paused": 0, "completed": 0, "skipped": 1}
    assert get(client, auth, "/api/dashboard/stats", "manager").get_json()["tasks"] == {
        "pending": 0, "in_progress": 0, "paused": 0, "completed": 0, "skipped": 0}


def test_overdue_counts_open_jobs_due_before_today_utc(client, auth, db):
    customer = add_customer(db)
    today = datetime.now(UTC).date()
    add_job(db, customer, "active", today)                        # due today: not yet overdue
    add_job(db, customer, "on_hold", today - timedelta(days=1))   # overdue
    add_job(db, customer, "completed", today - timedelta(days=9))  # closed: never overdue
    add_job(db, customer, "draft", None)                          # no due date
    assert get(client, auth, "/api/dashboard/stats").get_json()["jobs"]["overdue"] == 1


def test_stats_need_a_token(client):
    response = client.get("/api/dashboard/stats")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_recent_jobs_newest_first_with_customer_name(client, auth, db):
    customer = add_customer(db, "Harbor Dental")
    now = datetime.now(UTC)
    ids = [add_job(db, customer, created_at=now - timedelta(hours=hours), title=f"Job {hours}",
                   due_date=date(2030, 1, 1)) for hours in (5, 1, 3)]
    body = get(client, auth, "/api/dashboard/recent-jobs?limit=2").get_json()
    assert [item["id"] for item in body["items"]] == [ids[1], ids[2]]
    item = body["items"][0]
    assert set(item) == {"id", "job_number", "title", "status", "customer_name", "due_date", "created_at"}
    assert item["customer_name"] == "Harbor Dental" and item["due_date"] == "2030-01-01"
    assert datetime.fromisoformat(item["created_at"]).tzinfo is not None
    assert len(get(client, auth, "/api/dashboard/recent-jobs").get_json()["items"]) == 3


@pytest.mark.parametrize("path, status", [
    ("/api/dashboard/recent-jobs?limit=0", 422), ("/api/dashboard/recent-jobs?limit=101", 422),
    ("/api/dashboard/recent-jobs?limit=ten", 400), ("/api/dashboard/recent-jobs?sort=x", 400),
    ("/api/dashboard/chart/jobs-by-month?months=0", 422), ("/api/dashboard/chart/jobs-by-month?months=121", 422),
    ("/api/dashboard/chart/jobs-by-month?months=1.5", 400),
])
def test_bad_query_strings_are_problems(client, auth, path, status):
    response = get(client, auth, path)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"]


def test_jobs_by_status_in_workflow_order(client, auth, shop, db):
    add_job(db, shop, "completed")
    body = get(client, auth, "/api/dashboard/chart/jobs-by-status").get_json()
    assert body == {"labels": ["draft", "active", "in_progress", "on_hold", "completed", "cancelled"],
                    "values": [1, 1, 1, 1, 2, 1]}


def test_jobs_by_month_fills_empty_months_and_uses_utc(client, auth, db):
    customer = add_customer(db)
    today = datetime.now(UTC).date()
    this_month = today.replace(day=1)
    two_ago = last_months(3, today)[0]
    # 23:30 on the last day of the previous month in New York is already this month in UTC.
    new_york = timezone(timedelta(hours=-5))
    evening = timedelta(hours=23, minutes=30)
    late = datetime.combine(this_month - timedelta(days=1), datetime.min.time(), new_york) + evening
    add_job(db, customer, created_at=late)
    add_job(db, customer, created_at=datetime.combine(two_ago, datetime.min.time(), UTC))
    add_job(db, customer, created_at=datetime.combine(two_ago, datetime.min.time(), UTC) + timedelta(days=3))
    body = get(client, auth, "/api/dashboard/chart/jobs-by-month?months=3").get_json()
    assert body["labels"] == [month.strftime("%Y-%m") for month in last_months(3, today)]
    assert body["values"] == [2, 0, 1]
    assert len(get(client, auth, "/api/dashboard/chart/jobs-by-month").get_json()["labels"]) == 12
