"""GET /api/reports/step-times on a small known data set (expected figures worked out by hand), and the
running timers the dashboard flags."""
import pytest
from psycopg2.extras import Json

from tests.support.factories import add_customer, add_job
from tests.support.rows import process_ids

IN_RANGE = "2026-03-10 12:00+00"


@pytest.fixture
def finished(db, auth):
    """Completed steps: print worked 60, 120, 180, 240, 600 s; cut 100, 300 s; plus steps the report skips."""
    processes = process_ids(db)
    op1, op2 = auth.user_id("operator1"), auth.user_id("operator2")
    job_id = add_job(db, add_customer(db), status="in_progress")
    rows = [  # process, operator, worked seconds, paused by reason, completed at, status
        ("print", op1, 60, {"break": 30}, IN_RANGE, "completed"),
        ("print", op1, 120, {"break": 15, "out_of_media": 120}, IN_RANGE, "completed"),
        ("print", op2, 180, None, IN_RANGE, "completed"),
        ("print", op2, 240, None, "2026-03-01 00:00+00", "completed"),  # the range's first instant
        ("print", op2, 600, None, "2026-03-31 23:59:59+00", "completed"),  # its last day
        ("cut", op1, 100, None, IN_RANGE, "completed"),
        ("cut", op1, 300, {"machine_down": 50}, IN_RANGE, "completed"),
        ("cut", op1, 9999, None, "2026-04-01 00:00+00", "completed"),  # the day after
        ("cut", op1, 7777, None, "2026-02-28 23:59:59+00", "completed"),  # the day before
        ("cut", op1, 5555, None, None, "skipped"),
    ]
    with db.cursor() as cur:
        for order, (process, user, worked, paused, done, status) in enumerate(rows, start=1):
            cur.execute(
                "INSERT INTO job_steps (job_id, step_order, process_id, name, status, assigned_to, started_at, "
                "completed_at, worked_seconds, paused_by_reason) VALUES (%s, %s, %s, %s, %s, %s, "
                "%s::timestamptz - interval '2 hours', %s, %s, %s)",
                (job_id, order, processes[process], process, status, user, done or IN_RANGE, done, worked,
                 Json(paused) if paused else None))
    return processes


def report(client, auth, query, user="manager"):
    return client.get(f"/api/reports/step-times?{query}", headers=auth.headers(user))


def test_the_report_by_process_gives_the_hand_worked_median_and_p90(client, auth, finished):
    items = report(client, auth, "from=2026-03-01&to=2026-03-31&by=process").get_json()["items"]
    by_key = {item["key"]: item for item in items}
    printed, cut = by_key[finished["print"]], by_key[finished["cut"]]
    # print: 60 120 180 240 600 -> median 180; p90 at position 0.9 * 4 = 3.6: 240 + 0.6 * (600 - 240) = 456
    assert printed == {"key": finished["print"], "label": "Print", "steps": 5, "worked_median_seconds": 180,
                       "worked_p90_seconds": 456, "paused_seconds_by_reason": {"break": 45, "out_of_media": 120}}
    # cut: 100 300 -> median 200; p90 at 0.9: 100 + 0.9 * 200 = 280
    assert (cut["steps"], cut["worked_median_seconds"], cut["worked_p90_seconds"]) == (2, 200, 280)
    assert cut["paused_seconds_by_reason"] == {"machine_down": 50}
    assert len(items) == 2


def test_the_report_by_operator_and_by_machine(client, auth, finished):
    items = report(client, auth, "from=2026-03-01&to=2026-03-31&by=operator").get_json()["items"]
    assert {(item["label"], item["steps"], item["worked_median_seconds"]) for item in items} == {
        ("Olivia Operator", 4, 110), ("Omar Operator", 3, 240)}
    [machine] = report(client, auth, "from=2026-03-01&to=2026-03-31&by=machine").get_json()["items"]
    assert (machine["key"], machine["label"], machine["steps"]) == (None, "No machine", 7)


@pytest.mark.parametrize("query, status", [
    ("to=2026-03-31", 422), ("from=2026-03-01", 422), ("from=2026-03-41&to=2026-04-01", 400),
    ("from=march&to=2026-04-01", 400), ("from=2026-03-02&to=2026-03-01", 422),
    ("from=2025-01-01&to=2026-01-02", 422), ("from=2026-01-01&to=2026-01-31&by=colour", 422)])
def test_bad_ranges_are_refused(client, auth, query, status):
    assert report(client, auth, query).status_code == status


def test_a_full_year_is_allowed_and_operators_are_refused(client, auth):
    assert report(client, auth, "from=2024-01-01&to=2024-12-31").get_json() == {"items": []}  # 366 days
    assert report(client, auth, "from=2026-01-01&to=2026-01-31", user="operator1").status_code == 403


def test_timers_running_past_the_limit_or_the_shift_end_are_flagged(client, auth, db):
    job_id = add_job(db, add_customer(db), status="in_progress",
                     steps=[(auth.user_id("operator1"), "in_progress")] * 3)
    with db.cursor() as cur:
        cur.execute("UPDATE job_steps SET timer_started_at = now() - interval '1 minute' * step_order "
                    "WHERE job_id = %s", (job_id,))
        cur.execute("UPDATE job_steps SET timer_started_at = now() - interval '11 hours' "
                    "WHERE job_id = %s AND step_order = 1", (job_id,))
        cur.execute("UPDATE job_steps SET timer_started_at = now() - interval '25 hours' "
                    "WHERE job_id = %s AND step_order = 2", (job_id,))
        cur.execute("SELECT id FROM job_steps WHERE job_id = %s ORDER BY step_order", (job_id,))
        eleven, day, fresh = (row[0] for row in cur.fetchall())
    body = client.get("/api/reports/running-timers", headers=auth.headers("manager")).get_json()
    assert (body["limit_hours"], body["shift_end"], body["shift_timezone"]) == (10, "18:00", "UTC")
    flagged = {item["step_id"]: item for item in body["items"]}
    assert fresh not in flagged and body["total"] == 2
    assert flagged[day]["over_limit"] and flagged[day]["past_shift_end"]  # a whole day: past some 18:00
    assert flagged[eleven]["over_limit"] and flagged[eleven]["running_seconds"] >= 11 * 3600
    assert body["items"][0]["step_id"] == day  # oldest first
