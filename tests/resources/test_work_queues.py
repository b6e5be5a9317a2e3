"""Work queues: GET /api/me/steps (the caller's steps across jobs) and GET /api/machines/<id>/queue."""
from datetime import datetime, timedelta

import pytest

from tests.support.factories import add_customer, create_job, utc_today
from tests.support.rows import process_ids

JOB_KEYS = {"job_id", "job_number", "title", "customer_name", "due_date", "priority"}


def add_machine(db, name):
    with db.cursor() as cur:
        cur.execute("INSERT INTO machines (name, machine_type) VALUES (%s, 'printer') RETURNING id", (name,))
        return cur.fetchone()[0]


def set_step(db, step_id, status):
    with db.cursor() as cur:
        cur.execute("UPDATE job_steps SET status = %s, started_at = now(), "
                    "completed_at = CASE WHEN %s = 'completed' THEN now() END WHERE id = %s",
                    (status, status, step_id))


@pytest.fixture
def floor(client, auth, db):
    """Four jobs of different urgency; operator1 has a step in each, on machine A or B."""
    customer, processes = add_customer(db, "Harbour Cafe"), process_ids(db)
    operator, machine_a, machine_b = auth.user_id("operator1"), add_machine(db, "A"), add_machine(db, "B")
    today = utc_today()

    def job(title, priority, due, machine):
        return create_job(client, auth, customer, title=title, priority=priority, due_date=due, steps=[
            {"process_id": processes["print"], "assigned_to": operator, "machine_id": machine},
            {"process_id": processes["cut"], "assigned_to": auth.user_id("operator2"), "machine_id": machine}])

    jobs = {"normal-late": job("normal late", "normal", str(today + timedelta(days=9)), machine_a),
            "normal-soon": job("normal soon", "normal", str(today + timedelta(days=1)), machine_b),
            "urgent": job("urgent", "urgent", None, machine_a),
            "low": job("low", "low", str(today), machine_a)}
    return {"jobs": jobs, "machine_a": machine_a, "machine_b": machine_b}


def titles(response):
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


def test_my_steps_most_urgent_first_with_their_jobs(client, auth, floor):
    set_step_done = floor["jobs"]["urgent"]["steps"][0]["id"]
    response = client.get("/api/me/steps", headers=auth.headers("operator1"))
    assert titles(response) == ["urgent", "normal soon", "normal late", "low"]
    first = response.get_json()["items"][0]
    assert JOB_KEYS <= set(first) and first["customer_name"] == "Harbour Cafe" and first["priority"] == "urgent"
    assert first["id"] == set_step_done and first["assigned_to"] == auth.user_id("operator1")
    assert response.get_json()["pagination"]["total"] == 4


def test_running_steps_first_finished_last_and_filters_apply(client, auth, db, floor):
    set_step(db, floor["jobs"]["urgent"]["steps"][0]["id"], "completed")
    set_step(db, floor["jobs"]["low"]["steps"][0]["id"], "in_progress")
    headers = auth.headers("operator1")
    assert titles(client.get("/api/me/steps", headers=headers)) == ["low", "normal soon", "normal late", "urgent"]
    assert titles(client.get("/api/me/steps?status=completed", headers=headers)) == ["urgent"]
    assert titles(client.get("/api/me/steps?status=pending", headers=headers)) == ["normal soon", "normal late"]
    by_machine = client.get(f"/api/me/steps?machine_id={floor['machine_a']}", headers=headers)
    assert titles(by_machine) == ["low", "normal late", "urgent"]
    assert titles(client.get("/api/me/steps?status=in_progress", headers=headers)) == ["low"]
    page = client.get("/api/me/steps?per_page=2&page=2", headers=headers).get_json()
    assert [item["title"] for item in page["items"]] == ["normal late", "urgent"]
    assert page["pagination"] == {"page": 2, "per_page": 2, "total": 4, "pages": 2, "has_next": False,
                                  "has_prev": True, "next_cursor": None, "total_is_estimate": False}
    cursor = client.get("/api/me/steps?per_page=2", headers=headers).get_json()["pagination"]["next_cursor"]
    assert titles(client.get(f"/api/me/steps?per_page=2&cursor={cursor}", headers=headers)) == ["normal late",
                                                                                              "urgent"]


def test_a_priority_change_reorders_the_queue(client, auth, floor):
    low = floor["jobs"]["low"]
    response = client.patch(f"/api/jobs/{low['id']}", json={"priority": "urgent", "due_date": None},
                            headers=auth.headers("manager"))
    assert response.status_code == 200
    # Equal priority and no due date: the older job first.
    assert titles(client.get("/api/me/steps", headers=auth.headers("operator1")))[:2] == ["urgent", "low"]
    step = client.get(f"/api/steps/{low['steps'][0]['id']}", headers=auth.headers("viewer")).get_json()
    stamp = datetime.fromisoformat
    # the copy of the urgency is not a change of the step
    assert stamp(step["updated_at"]) == stamp(low["steps"][0]["updated_at"])


def test_my_steps_are_only_mine(client, auth, floor):
    assert client.get("/api/me/steps", headers=auth.headers("viewer")).get_json()["items"] == []
    theirs = client.get("/api/me/steps", headers=auth.headers("operator2")).get_json()["items"]
    assert {item["assigned_to"] for item in theirs} == {auth.user_id("operator2")} and len(theirs) == 4


@pytest.mark.parametrize("query, status", [("status=done", 422), ("machine_id=1.5", 400),
                                           ("machine_id=x", 400), ("per_page=101", 422), ("colour=red", 400)])
def test_my_steps_reject_bad_queries(client, auth, query, status):
    response = client.get(f"/api/me/steps?{query}", headers=auth.headers("operator1"))
    assert response.status_code == status and response.mimetype == "application/problem+json"


def test_machine_queue_running_first_then_most_urgent(client, auth, db, floor):
    jobs = floor["jobs"]
    set_step(db, jobs["low"]["steps"][1]["id"], "in_progress")
    set_step(db, jobs["urgent"]["steps"][0]["id"], "completed")
    response = client.get(f"/api/machines/{floor['machine_a']}/queue", headers=auth.headers("viewer"))
    items = response.get_json()["items"]
    assert [(item["title"], item["step_order"], item["status"]) for item in items] == [
        ("low", 2, "in_progress"), ("urgent", 2, "pending"), ("normal late", 1, "pending"),
        ("normal late", 2, "pending"), ("low", 1, "pending")]
    assert all(item["machine_id"] == floor["machine_a"] for item in items) and JOB_KEYS <= set(items[0])
    other = client.get(f"/api/machines/{floor['machine_b']}/queue", headers=auth.headers("viewer")).get_json()
    assert other["pagination"]["total"] == 2


def test_machine_queue_of_unknown_machine_is_404(client, auth):
    response = client.get("/api/machines/999999/queue", headers=auth.headers("viewer"))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_queue_items_carry_the_steps_etag_for_if_match(client, auth, floor):
    """A work list row can be sent back as If-Match: its etag is the step's, and goes stale when it changes."""
    headers = auth.headers("operator1")
    mine = client.get("/api/me/steps", headers=headers).get_json()["items"][0]
    on_machine = client.get(f"/api/machines/{floor['machine_a']}/queue", headers=headers).get_json()["items"]
    step = client.get(f"/api/steps/{mine['id']}", headers=headers)
    assert mine["etag"] == step.headers["ETag"] == next(item for item in on_machine if item["id"] == mine["id"])["etag"]
    started = client.patch(f"/api/steps/{mine['id']}", json={"status": "in_progress"},
                           headers=dict(headers, **{"If-Match": mine["etag"]}))
    assert started.status_code == 200
    again = client.patch(f"/api/steps/{mine['id']}", json={"status": "completed"},
                         headers=dict(headers, **{"If-Match": mine["etag"]}))
    assert again.status_code == 412 and again.mimetype == "application/problem+json"
    fresh = client.get("/api/me/steps", headers=headers).get_json()["items"][0]
    assert fresh["id"] == mine["id"] and fresh["etag"] == started.headers["ETag"] != mine["etag"]
