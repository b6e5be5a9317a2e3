"""Pause and resume a step (issue 26): reasons, time on the database's clock, segments, audit, notifications,
the dashboard's counts and its counters' verify."""
import time

import pytest

from tests.support.factories import add_customer, create_job
from tests.support.rows import audit_rows, naive_stats, process_ids
from tests.support.waiting import eventually


@pytest.fixture
def job(client, auth, db):
    """An active job with a print step for operator1 and a cut step for operator2."""
    processes = process_ids(db)
    return create_job(client, auth, add_customer(db), status="active", steps=[
        {"process_id": processes["print"], "assigned_to": auth.user_id("operator1")},
        {"process_id": processes["cut"], "assigned_to": auth.user_id("operator2")}])


def patch(client, auth, step_id, body, user="operator1"):
    return client.patch(f"/api/steps/{step_id}", json=body, headers=auth.headers(user))


def test_pause_reasons_are_listed_for_anyone_and_added_by_an_admin(client, auth):
    listed = client.get("/api/pause-reasons", headers=auth.headers("viewer")).get_json()["items"]
    assert {"code": "out_of_media", "label": "Out of media"} in listed
    assert {"proof_approval", "machine_down", "end_of_shift", "break", "other"} <= {r["code"] for r in listed}
    body = {"code": "ink_drying", "label": "Ink drying"}
    assert client.post("/api/pause-reasons", json=body, headers=auth.headers("manager")).status_code == 403
    created = client.post("/api/pause-reasons", json=body, headers=auth.headers("admin"))
    assert created.status_code == 201 and created.get_json() == body
    replayed = client.post("/api/pause-reasons", json=body, headers=dict(auth.headers("admin"), **{
        "Idempotency-Key": "k-1"}))
    assert replayed.status_code == 409  # the code is taken (no key kept: a failed request keeps none)
    assert client.post("/api/pause-reasons", json=body, headers=auth.headers("admin")).status_code == 409
    once = {"code": "glue_setting", "label": "Glue setting"}
    for _ in range(2):
        again = client.post("/api/pause-reasons", json=once, headers=dict(auth.headers("admin"),
                                                                            **{"Idempotency-Key": "k-2"}))
        assert again.status_code == 201 and again.get_json() == once
    assert again.headers.get("Idempotent-Replayed") == "true"
    bad = client.post("/api/pause-reasons", json={"code": "Ink Drying!", "label": "x"}, headers=auth.headers("admin"))
    assert bad.status_code == 422
    assert client.get("/api/pause-reasons", headers=auth.headers("operator1")).get_json()["items"][-2:] == [body, once]


def test_pause_then_resume_counts_paused_time_apart_from_work(client, auth, db, job):
    """The one test with a real wait: 2 s paused."""
    step_id = job["steps"][0]["id"]
    assert patch(client, auth, step_id, {"status": "in_progress"}).status_code == 200
    paused = patch(client, auth, step_id, {"status": "paused", "pause_reason": "out_of_media", "note": "roll empty"})
    assert paused.status_code == 200, paused.get_json()
    body = paused.get_json()
    assert body["status"] == "paused" and body["pause_reason"] == "out_of_media"
    time.sleep(2.05)
    shown = client.get(f"/api/steps/{step_id}", headers=auth.headers("viewer")).get_json()
    assert shown["paused_seconds"] >= 2 and shown["pause_reason"] == "out_of_media"  # the open pause counts
    resumed = patch(client, auth, step_id, {"status": "in_progress"}).get_json()
    assert resumed["status"] == "in_progress" and resumed["pause_reason"] is None
    assert resumed["paused_seconds"] >= 2 and resumed["worked_seconds"] < 2
    with db.cursor() as cur:
        cur.execute("SELECT worked_seconds, paused_seconds, paused_by_reason, started_at = timer_started_at "
                    "FROM job_steps WHERE id = %s", (step_id,))
        worked, paused_total, by_reason, same_start = cur.fetchone()
    assert worked < 2 <= paused_total and by_reason["out_of_media"] == paused_total and not same_start
    segments = client.get(f"/api/steps/{step_id}/time", headers=auth.headers("viewer")).get_json()["items"]
    assert [(s["kind"], s["reason"], s["user_id"]) for s in segments] == [
        ("work", None, auth.user_id("operator1")), ("pause", "out_of_media", auth.user_id("operator1")),
        ("work", None, auth.user_id("operator1"))]
    assert segments[0]["ended_at"] == segments[1]["started_at"] and segments[1]["ended_at"] == segments[2]["started_at"]
    assert segments[2]["ended_at"] is None and segments[1]["note"] == "roll empty"
    job_steps = client.get(f"/api/jobs/{job['id']}", headers=auth.headers("viewer")).get_json()["steps"]
    assert job_steps[0]["paused_seconds"] >= 2 and "worked_seconds" in job_steps[0]
    assert job_steps[0]["pause_reason"] is None
    completed = patch(client, auth, step_id, {"status": "completed"}).get_json()
    assert completed["started_at"] == body["started_at"]  # a resume keeps the first start
    changes = [row[4] for row in audit_rows(db, "job_steps")]
    assert {"status": {"old": "in_progress", "new": "paused"}, "pause_reason": {"old": None, "new": "out_of_media"},
            "note": {"old": None, "new": "roll empty"}} in changes


def test_illegal_transitions_are_409_and_bad_reasons_422(client, auth, job):
    step_id = job["steps"][0]["id"]
    assert patch(client, auth, step_id, {"status": "paused", "pause_reason": "break"}).status_code == 409  # pending
    patch(client, auth, step_id, {"status": "in_progress"})
    unknown = patch(client, auth, step_id, {"status": "paused", "pause_reason": "coffee_machine"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "pause_reason"
    assert patch(client, auth, step_id, {"status": "paused"}).status_code == 422  # no reason
    assert patch(client, auth, step_id, {"status": "in_progress", "pause_reason": "break"}).status_code == 422
    assert patch(client, auth, step_id, {"status": "paused", "pause_reason": "break"}).status_code == 200
    assert patch(client, auth, step_id, {"status": "completed"}).status_code == 409  # resume first
    assert patch(client, auth, step_id, {"status": "paused", "pause_reason": "break"}).status_code == 409
    other = patch(client, auth, step_id, {"status": "in_progress"}, user="operator2")
    assert other.status_code == 403  # not their step
    assert patch(client, auth, step_id, {"status": "skipped"}).get_json()["status"] == "skipped"


def test_a_pause_tells_the_jobs_creator_and_counts_on_the_dashboard(client, auth, db, runner, job):
    step_id = job["steps"][0]["id"]
    operator = auth.user_id("operator1")
    patch(client, auth, step_id, {"status": "in_progress"})
    patch(client, auth, step_id, {"status": "paused", "pause_reason": "machine_down"})
    inbox = client.get("/api/notifications", headers=auth.headers("manager")).get_json()["items"]
    assert [n["kind"] for n in inbox].count("step_paused") == 1
    assert "Machine down" in next(n["message"] for n in inbox if n["kind"] == "step_paused")
    tasks = client.get("/api/dashboard/stats", headers=auth.headers("operator1")).get_json()["tasks"]
    assert tasks == {"pending": 0, "in_progress": 0, "paused": 1, "completed": 0, "skipped": 0}
    assert naive_stats(db, operator)["tasks"]["paused"] == 1
    assert runner.invoke(args=["dashboard", "verify"]).output.strip() == "dashboard counters: no drift"
    patch(client, auth, step_id, {"status": "in_progress"})

    def tasks_now():  # the cached answer is dropped by the write's notification, delivered at commit
        return client.get("/api/dashboard/stats", headers=auth.headers("operator1")).get_json()["tasks"]
    assert eventually(lambda: tasks_now()["paused"] == 0) and tasks_now()["in_progress"] == 1
    assert runner.invoke(args=["dashboard", "verify"]).exit_code == 0


def test_segments_of_an_unknown_step_are_404(client, auth):
    assert client.get("/api/steps/999999/time", headers=auth.headers("viewer")).status_code == 404
