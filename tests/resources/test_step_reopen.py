"""A manager reopens a completed or skipped step (issue 26); one notification per assignment."""
import pytest

from tests.support.factories import add_customer, create_job
from tests.support.rows import audit_rows, process_ids


@pytest.fixture
def job(client, auth, db):
    """An active job with one print step for operator1."""
    return create_job(client, auth, add_customer(db), status="active", steps=[
        {"process_id": process_ids(db)["print"], "assigned_to": auth.user_id("operator1")}])


def patch(client, auth, step_id, body, user="operator1"):
    return client.patch(f"/api/steps/{step_id}", json=body, headers=auth.headers(user))


def test_a_manager_reopens_a_completed_step_and_the_job_opens_again(client, auth, db, runner, job):
    step_id = job["steps"][0]["id"]
    patch(client, auth, step_id, {"status": "in_progress"})
    assert patch(client, auth, step_id, {"status": "completed"}).get_json()["job_status"] == "completed"
    refused = patch(client, auth, step_id, {"status": "pending", "reason": "misprint"})
    assert refused.status_code == 403  # even the step's own operator
    assert patch(client, auth, step_id, {"status": "pending"}, user="manager").status_code == 422  # no reason
    reopened = patch(client, auth, step_id, {"status": "pending", "reason": "Colours off, reprint"}, user="manager")
    assert reopened.status_code == 200, reopened.get_json()
    body = reopened.get_json()
    assert body["status"] == "pending" and body["job_status"] == "in_progress"
    assert body["started_at"] is None and body["completed_at"] is None
    job_now = client.get(f"/api/jobs/{job['id']}", headers=auth.headers("viewer")).get_json()
    assert job_now["status"] == "in_progress" and job_now["steps_completed"] == 0
    entry = next(row[4] for row in reversed(audit_rows(db, "job_steps")) if "reason" in row[4])
    assert entry["status"] == {"old": "completed", "new": "pending"}
    assert entry["reason"] == {"old": None, "new": "Colours off, reprint"}
    assert any(row[4].get("status") == {"old": "completed", "new": "in_progress"} for row in audit_rows(db, "jobs"))
    kinds = [n["kind"] for n in client.get("/api/notifications", headers=auth.headers("operator1")).get_json()["items"]]
    assert "step_reopened" in kinds
    assert runner.invoke(args=["dashboard", "verify"]).output.strip() == "dashboard counters: no drift"
    # worked again and completed: the step's time keeps both stretches of work
    patch(client, auth, step_id, {"status": "in_progress"})
    assert patch(client, auth, step_id, {"status": "completed"}).get_json()["job_status"] == "completed"
    segments = client.get(f"/api/steps/{step_id}/time", headers=auth.headers("viewer")).get_json()["items"]
    assert [s["kind"] for s in segments] == ["work", "work"]


def test_a_skipped_step_is_reopened_but_an_open_one_is_not(client, auth, job):
    step_id = job["steps"][0]["id"]
    assert patch(client, auth, step_id, {"status": "pending", "reason": "x"}, user="manager").status_code == 409
    patch(client, auth, step_id, {"status": "skipped"})
    assert patch(client, auth, step_id, {"status": "in_progress"}).status_code == 409
    assert patch(client, auth, step_id, {"status": "pending", "reason": "Skipped by mistake"},
                 user="manager").get_json()["status"] == "pending"
    assert patch(client, auth, step_id, {"status": "in_progress"}).status_code == 200


def test_a_step_of_a_cancelled_job_is_not_reopened(client, auth, db, job):
    step_id = job["steps"][0]["id"]
    patch(client, auth, step_id, {"status": "skipped"}, user="manager")
    with db.cursor() as cur:
        cur.execute("UPDATE jobs SET status = 'cancelled' WHERE id = %s", (job["id"],))
    assert patch(client, auth, step_id, {"status": "pending", "reason": "x"}, user="manager").status_code == 409


def test_assigning_many_steps_of_a_job_to_one_operator_makes_one_notification(client, auth, db):
    processes = process_ids(db)
    operator = auth.user_id("operator2")
    create_job(client, auth, add_customer(db), steps=[
        {"process_id": processes[code], "assigned_to": operator} for code in ("print", "cut", "laminate")]
        + [{"process_id": processes["print"], "assigned_to": auth.user_id("operator1")}])
    inbox = client.get("/api/notifications", headers=auth.headers("operator2")).get_json()
    assert inbox["unread"] == 1 and len(inbox["items"]) == 1
    assert "3 steps" in inbox["items"][0]["message"] and inbox["items"][0]["step_id"] is None
    single = client.get("/api/notifications", headers=auth.headers("operator1")).get_json()["items"]
    assert len(single) == 1 and single[0]["step_id"] is not None
