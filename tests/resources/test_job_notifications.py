"""Notifications that matter: a job's status change tells its step assignees (not the actor), an overdue
job is announced once to its assignees and the managers, and the unread count and read-all."""
from datetime import timedelta

import pytest

from tests.support.factories import add_customer, create_job, utc_today
from tests.support.rows import process_ids


@pytest.fixture
def job(client, auth, db):
    """A job with steps for operator1, operator2 (twice) and the manager."""
    processes = process_ids(db)
    return create_job(client, auth, add_customer(db), status="active", steps=[
        {"process_id": processes["print"], "assigned_to": auth.user_id("operator1")},
        {"process_id": processes["cut"], "assigned_to": auth.user_id("operator2")},
        {"process_id": processes["laminate"], "assigned_to": auth.user_id("operator2")},
        {"process_id": processes["install"], "assigned_to": auth.user_id("manager")}])


def notified(db, kind):
    """{username: count} of the notifications of `kind`."""
    with db.cursor() as cur:
        cur.execute("SELECT u.username, count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
                    "WHERE n.kind = %s GROUP BY u.username", (kind,))
        return dict(cur.fetchall())


def test_a_manual_status_change_tells_the_assignees_but_not_the_actor(client, auth, db, job):
    response = client.patch(f"/api/jobs/{job['id']}", json={"status": "on_hold"}, headers=auth.headers("manager"))
    assert response.status_code == 200
    assert notified(db, "job_status") == {"operator1": 1, "operator2": 1}
    inbox = client.get("/api/notifications", headers=auth.headers("operator2")).get_json()
    assert inbox["items"][0]["kind"] == "job_status" and "on hold" in inbox["items"][0]["message"]
    client.patch(f"/api/jobs/{job['id']}", json={"title": "Renamed"}, headers=auth.headers("manager"))
    assert notified(db, "job_status") == {"operator1": 1, "operator2": 1}  # no status change, no news


def test_a_status_change_through_a_step_tells_the_others(client, auth, db, job):
    started = client.patch(f"/api/steps/{job['steps'][0]['id']}", json={"status": "in_progress"},
                           headers=auth.headers("operator1"))
    assert started.get_json()["job_status"] == "in_progress"
    assert notified(db, "job_status") == {"operator2": 1, "manager": 1}


def test_unread_count_and_read_all(client, auth, job):
    client.patch(f"/api/jobs/{job['id']}", json={"status": "on_hold"}, headers=auth.headers("manager"))
    headers = auth.headers("operator2")
    inbox = client.get("/api/notifications?per_page=1", headers=headers).get_json()
    # two steps assigned in one request make one notification (issue 26), plus one status change
    assert inbox["unread"] == 2 and len(inbox["items"]) == 1
    assert client.post("/api/notifications/read-all", headers=headers).get_json() == {"marked": 2}
    assert client.get("/api/notifications", headers=headers).get_json()["unread"] == 0


def _late(db, job_id, days=1):
    with db.cursor() as cur:
        cur.execute("UPDATE jobs SET due_date = %s WHERE id = %s", (utc_today() - timedelta(days=days), job_id))


def test_an_overdue_job_is_announced_once_to_its_assignees_and_the_managers(runner, auth, db, job):
    _late(db, job["id"])
    assert runner.invoke(args=["notify-overdue"]).output.strip() == "3 notification(s)"
    assert notified(db, "job_overdue") == {"operator1": 1, "operator2": 1, "manager": 1}
    assert runner.invoke(args=["notify-overdue"]).output.strip() == "0 notification(s)"
    _late(db, job["id"], days=2)  # a new due date, missed again: news again
    assert runner.invoke(args=["notify-overdue"]).output.strip() == "3 notification(s)"


def test_closed_and_inactive_are_not_told(runner, client, auth, db, job):
    client.patch(f"/api/users/{auth.user_id('operator1')}", json={"is_active": False}, headers=auth.headers("admin"))
    _late(db, job["id"])
    other = create_job(client, auth, job["customer_id"], status="active")
    client.patch(f"/api/jobs/{other['id']}", json={"status": "cancelled"}, headers=auth.headers("manager"))
    _late(db, other["id"])
    runner.invoke(args=["notify-overdue"])
    assert notified(db, "job_overdue") == {"operator2": 1, "manager": 1}
