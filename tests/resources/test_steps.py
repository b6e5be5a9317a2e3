"""Job steps: start, complete, skip, assign; who may do it; the job's automatic transitions; audit."""
import pytest

from tests.support.factories import add_customer, add_job, create_job
from tests.support.rows import audit_rows, count, process_ids


@pytest.fixture
def job(client, auth, db):
    """A draft job with three steps: print (operator1), cut (operator2), install (unassigned)."""
    processes = process_ids(db)
    return create_job(client, auth, add_customer(db), steps=[
        {"process_id": processes["print"], "assigned_to": auth.user_id("operator1")},
        {"process_id": processes["cut"], "assigned_to": auth.user_id("operator2")},
        {"process_id": processes["install"]},
    ])


def patch(client, auth, step_id, body, user="manager"):
    return client.patch(f"/api/steps/{step_id}", json=body, headers=auth.headers(user))


def job_status(db, job_id):
    with db.cursor() as cur:
        cur.execute("SELECT status FROM jobs WHERE id = %s", (job_id,))
        return cur.fetchone()[0]


def step_row(db, step_id):
    with db.cursor() as cur:
        cur.execute("SELECT status, assigned_to, machine_id, started_at, completed_at FROM job_steps "
                    "WHERE id = %s", (step_id,))
        return cur.fetchone()


def test_the_assigned_operator_starts_a_step_and_the_job_goes_in_progress(client, auth, db, job):
    step = job["steps"][0]
    response = patch(client, auth, step["id"], {"status": "in_progress"}, user="operator1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "in_progress" and body["started_at"] and body["job_status"] == "in_progress"
    assert job_status(db, job["id"]) == "in_progress"
    step_audit, job_audit = audit_rows(db)[-2:]
    assert step_audit[:4] == (auth.user_id("operator1"), "update", "job_steps", step["id"])
    assert step_audit[4]["status"] == {"old": "pending", "new": "in_progress"} and "started_at" in step_audit[4]
    assert job_audit[1:] == ("update", "jobs", job["id"], {"status": {"old": "draft", "new": "in_progress"}})


def test_completing_and_skipping_the_last_open_steps_completes_the_job(client, auth, db, job):
    first, second, third = (step["id"] for step in job["steps"])
    assert patch(client, auth, first, {"status": "in_progress"}, "operator1").status_code == 200
    done = patch(client, auth, first, {"status": "completed"}, "operator1").get_json()
    assert done["completed_at"] and done["job_status"] == "in_progress"
    assert patch(client, auth, second, {"status": "skipped"}, "operator2").get_json()["job_status"] == "in_progress"
    last = patch(client, auth, third, {"status": "skipped"})
    assert last.status_code == 200 and last.get_json()["job_status"] == "completed"
    assert job_status(db, job["id"]) == "completed"
    assert audit_rows(db, "jobs")[-1][4] == {"status": {"old": "in_progress", "new": "completed"}}


@pytest.mark.parametrize("path, body", [
    (["in_progress", "completed"], "in_progress"), (["skipped"], "in_progress"), ([], "completed"),
    (["in_progress"], "in_progress"), (["in_progress", "completed"], "skipped"), (["skipped"], "skipped"),
    (["in_progress", "completed"], "completed"),
])
def test_illegal_step_transitions_are_409(client, auth, db, job, path, body):
    step_id = job["steps"][2]["id"]
    for status in path:
        assert patch(client, auth, step_id, {"status": status}).status_code == 200
    before = step_row(db, step_id)
    response = patch(client, auth, step_id, {"status": body})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert step_row(db, step_id) == before


@pytest.mark.parametrize("body", [{"status": "pending"}, {"status": None}, {"status": "done"},
                                  {"colour": "red"}, {"assigned_to": 0}, {"machine_id": "x"}])
def test_bad_step_bodies_are_422(client, auth, db, job, body):
    step_id = job["steps"][0]["id"]
    assert patch(client, auth, step_id, body).status_code == 422
    assert step_row(db, step_id)[0] == "pending" and len(audit_rows(db)) == 1


@pytest.mark.parametrize("user, step_index", [("operator2", 0), ("operator1", 2), ("viewer", 0)])
def test_others_may_not_change_a_steps_status(client, auth, db, job, user, step_index):
    step_id = job["steps"][step_index]["id"]
    response = patch(client, auth, step_id, {"status": "in_progress"}, user=user)
    assert response.status_code == 403 and step_row(db, step_id)[0] == "pending"
    assert job_status(db, job["id"]) == "draft"


def test_role_permissions_decide_who_executes_a_process(client, auth, db, job):
    processes = process_ids(db)
    allowed = [pid for code, pid in processes.items() if code != "print"]
    assert client.put("/api/roles/operator/permissions", json={"process_ids": allowed},
                      headers=auth.headers("admin")).status_code == 200
    print_step, cut_step = job["steps"][0]["id"], job["steps"][1]["id"]
    response = patch(client, auth, print_step, {"status": "in_progress"}, user="operator1")
    assert response.status_code == 403 and "process" in response.get_json()["detail"]
    assert patch(client, auth, cut_step, {"status": "in_progress"}, user="operator2").status_code == 200
    # A manager whose role may not print is refused too; the permission is per role, not per person.
    with db.cursor() as cur:
        cur.execute("DELETE FROM role_process_permissions WHERE role = 'manager' AND process_id = %s",
                    (processes["print"],))
    assert patch(client, auth, print_step, {"status": "in_progress"}).status_code == 403
    assert step_row(db, print_step)[0] == "pending"


@pytest.mark.parametrize("status", ["on_hold", "cancelled", "completed"])
def test_steps_of_a_job_that_is_not_open_for_work_do_not_change(client, auth, db, job, status):
    with db.cursor() as cur:
        cur.execute("UPDATE jobs SET status = %s WHERE id = %s", (status, job["id"]))
    response = patch(client, auth, job["steps"][0]["id"], {"status": "in_progress"}, "operator1")
    assert response.status_code == 409 and status in response.get_json()["detail"]
    assert job_status(db, job["id"]) == status


def notifications(db):
    with db.cursor() as cur:
        cur.execute("SELECT user_id, kind, step_id, message FROM notifications ORDER BY id")
        return cur.fetchall()


def test_assigning_a_step_notifies_the_operator_in_the_same_write(client, auth, db, job):
    step = job["steps"][2]
    machine = _machine(db)
    response = patch(client, auth, step["id"], {"assigned_to": auth.user_id("operator3"), "machine_id": machine})
    assert response.status_code == 200
    assert (response.get_json()["assigned_to"], response.get_json()["machine_id"]) == (
        auth.user_id("operator3"), machine)
    user_id, kind, step_id, message = notifications(db)[-1]
    assert (user_id, kind, step_id) == (auth.user_id("operator3"), "step_assigned", step["id"])
    assert job["job_number"] in message and "Install" in message
    assert audit_rows(db)[-1][4] == {"assigned_to": {"old": None, "new": auth.user_id("operator3")},
                                     "machine_id": {"old": None, "new": machine}}
    # The same assignee again is no new assignment; unassigning notifies nobody.
    patch(client, auth, step["id"], {"assigned_to": auth.user_id("operator3")})
    assert patch(client, auth, step["id"], {"assigned_to": None, "machine_id": None}).status_code == 200
    assert len(notifications(db)) == 3  # two from the job's creation, one from here
    assert step_row(db, step["id"])[1:3] == (None, None)


def _machine(db, active=True):
    with db.cursor() as cur:
        cur.execute("INSERT INTO machines (name, machine_type, is_active) VALUES (%s, 'van', %s) RETURNING id",
                    (f"Van {active}", active))
        return cur.fetchone()[0]


@pytest.mark.parametrize("case, field", [
    ("unknown user", "assigned_to"), ("viewer", "assigned_to"), ("inactive user", "assigned_to"),
    ("unknown machine", "machine_id"), ("retired machine", "machine_id"),
])
def test_bad_assignments_are_422_and_write_nothing(client, auth, db, job, case, field):
    if case == "inactive user":
        with db.cursor() as cur:
            cur.execute("UPDATE users SET is_active = false WHERE username = 'operator4'")
    body = {"unknown user": {"assigned_to": 999_999}, "viewer": {"assigned_to": auth.user_id("viewer")},
            "inactive user": {"assigned_to": auth.user_id("operator4")},
            "unknown machine": {"machine_id": 999_999}, "retired machine": {"machine_id": _machine(db, False)}}[case]
    step_id = job["steps"][2]["id"]
    response = patch(client, auth, step_id, body)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == field
    assert step_row(db, step_id)[1:3] == (None, None)
    assert len(notifications(db)) == 2 and len(audit_rows(db)) == 1


def test_only_managers_assign(client, auth, db, job):
    step_id = job["steps"][0]["id"]
    response = patch(client, auth, step_id, {"status": "in_progress", "assigned_to": auth.user_id("operator1")},
                     user="operator1")
    assert response.status_code == 403 and step_row(db, step_id)[0] == "pending"


def test_closed_jobs_take_no_reassignment(client, auth, db, job):
    with db.cursor() as cur:
        cur.execute("UPDATE jobs SET status = 'cancelled' WHERE id = %s", (job["id"],))
    assert patch(client, auth, job["steps"][2]["id"], {"assigned_to": auth.user_id("operator1")}).status_code == 409


def test_get_and_list_steps(client, auth, job):
    headers = auth.headers("viewer")
    step = job["steps"][1]
    fetched = client.get(f"/api/steps/{step['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.get_json()["id"] == step["id"]
    assert fetched.get_json()["name"] == step["name"] == "Cut"
    page = client.get(f"/api/jobs/{job['id']}/steps?per_page=2", headers=headers).get_json()
    assert [item["step_order"] for item in page["items"]] == [1, 2]
    assert page["pagination"]["total"] == 3 and page["pagination"]["has_next"] is True
    assert client.get("/api/jobs/999999/steps", headers=headers).status_code == 404
    assert client.get("/api/jobs/1/steps?per_page=0", headers=headers).status_code == 422


@pytest.mark.parametrize("path", ["/api/steps/999999", "/api/steps/99999999999999999999999"])
def test_unknown_step_is_404(client, auth, path):
    headers = auth.headers("manager")
    assert client.get(path, headers=headers).status_code == 404
    assert client.patch(path, json={"status": "skipped"}, headers=headers).status_code == 404
    assert client.delete(path, headers=headers).status_code == 404


def test_add_a_step_appends_it_notifies_and_audits(client, auth, db, job):
    processes = process_ids(db)
    body = {"process_id": processes["laminate"], "name": "Gloss laminate", "assigned_to": auth.user_id("operator5")}
    assert client.post(f"/api/jobs/{job['id']}/steps", json=body,
                       headers=auth.headers("operator5")).status_code == 403
    response = client.post(f"/api/jobs/{job['id']}/steps", json=body, headers=auth.headers("manager"))
    assert response.status_code == 201
    step = response.get_json()
    assert (step["step_order"], step["name"], step["status"]) == (4, "Gloss laminate", "pending")
    assert response.headers["Location"] == f"/api/steps/{step['id']}"
    assert notifications(db)[-1][:3] == (auth.user_id("operator5"), "step_assigned", step["id"])
    (_, action, entity, entity_id, changes) = audit_rows(db)[-1]
    assert (action, entity, entity_id) == ("create", "job_steps", step["id"])
    assert changes["step_order"] == {"old": None, "new": 4}


@pytest.mark.parametrize("case, status", [("unknown process", 422), ("no job", 404), ("cancelled job", 409),
                                          ("full job", 409), ("extra field", 422)])
def test_add_step_failures_write_nothing(client, auth, db, job, case, status):
    job_id = 999_999 if case == "no job" else job["id"]
    body = {"process_id": 999_999 if case == "unknown process" else process_ids(db)["cut"]}
    if case == "extra field":
        body["step_order"] = 1
    with db.cursor() as cur:
        if case == "cancelled job":
            cur.execute("UPDATE jobs SET status = 'cancelled' WHERE id = %s", (job_id,))
        if case == "full job":
            cur.execute("INSERT INTO job_steps (job_id, step_order, process_id, name) "
                        "SELECT %s, n, %s, 'x' FROM generate_series(4, 100) AS n", (job_id, body["process_id"]))
    steps_before = count(db, "job_steps")
    response = client.post(f"/api/jobs/{job_id}/steps", json=body, headers=auth.headers("manager"))
    assert response.status_code == status, response.get_json()
    assert count(db, "job_steps") == steps_before and len(audit_rows(db)) == 1


def test_deleting_the_last_open_step_completes_a_job_in_progress(client, auth, db, job):
    first, second, third = (step["id"] for step in job["steps"])
    patch(client, auth, first, {"status": "in_progress"})
    patch(client, auth, first, {"status": "completed"})
    patch(client, auth, second, {"status": "skipped"})
    assert client.delete(f"/api/steps/{third}", headers=auth.headers("operator1")).status_code == 403
    assert client.delete(f"/api/steps/{third}", headers=auth.headers("manager")).status_code == 204
    assert job_status(db, job["id"]) == "completed" and count(db, "job_steps") == 2
    assert [row[1:4] for row in audit_rows(db)[-2:]] == [("delete", "job_steps", third), ("update", "jobs", job["id"])]
    assert client.delete(f"/api/steps/{second}", headers=auth.headers("manager")).status_code == 409


@pytest.mark.parametrize("job_before, job_after", [("draft", "completed"), ("active", "completed"),
                                                   ("in_progress", "completed"), ("on_hold", "on_hold")])
@pytest.mark.parametrize("closing", ["completed", "skipped", "deleted"])
def test_the_job_follows_its_last_open_step_the_same_way_however_it_closes(client, auth, db, job_before, job_after,
                                                                           closing):
    job_id = add_job(db, add_customer(db), job_before, steps=[(None, "completed"), (None, "in_progress")])
    with db.cursor() as cur:
        cur.execute("SELECT id FROM job_steps WHERE job_id = %s AND status = 'in_progress'", (job_id,))
        last_open = cur.fetchone()[0]
    if closing == "deleted":
        response = client.delete(f"/api/steps/{last_open}", headers=auth.headers("manager"))
        assert response.status_code == 204
    else:
        response = patch(client, auth, last_open, {"status": closing})
        # A job on hold takes no step changes (409), so it stays on hold as it does when the step is deleted.
        assert response.status_code == (409 if job_before == "on_hold" else 200), response.get_json()
    assert job_status(db, job_id) == job_after
