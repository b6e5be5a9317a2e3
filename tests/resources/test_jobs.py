"""Jobs: creation with steps in one transaction, reads with steps in one query, filters, changes, audit."""
import re
from datetime import UTC, datetime, timedelta

import psycopg2.extras
import pytest

from tests.support.factories import add_customer, add_job, create_job, utc_today
from tests.support.rows import audit_rows, count, process_ids


@pytest.fixture
def customer(db):
    return add_customer(db)


def test_create_job_with_steps(client, auth, db, customer):
    processes = process_ids(db)
    operator = auth.user_id("operator1")
    job = create_job(client, auth, customer, steps=[
        {"process_id": processes["design"]},
        {"process_id": processes["print"], "name": "Print on vinyl", "assigned_to": operator},
        {"process_id": processes["cut"], "machine_id": None},
    ], due_date="2030-01-31", priority="high", description="Two metres")
    assert re.fullmatch(r"JOB-\d{7}", job["job_number"])
    assert (job["customer_name"], job["status"], job["priority"], job["due_date"]) == (
        "Acme Signs", "draft", "high", "2030-01-31")
    assert job["created_by"] == auth.user_id("manager") and job["is_overdue"] is False
    assert [(s["step_order"], s["name"], s["status"], s["assigned_to"]) for s in job["steps"]] == [
        (1, "Design", "pending", None), (2, "Print on vinyl", "pending", operator), (3, "Cut", "pending", None)]
    assert count(db, "job_steps") == 3
    with db.cursor() as cur:
        cur.execute("SELECT user_id, kind, job_id, step_id FROM notifications")
        assert cur.fetchall() == [(operator, "step_assigned", job["id"], job["steps"][1]["id"])]
    [(user_id, action, entity, entity_id, changes)] = audit_rows(db)
    assert (user_id, action, entity, entity_id) == (auth.user_id("manager"), "create", "jobs", job["id"])
    assert changes["title"] == {"old": None, "new": "Shop front banner"}
    assert changes["job_number"]["new"] == job["job_number"] and len(changes["steps"]["new"]) == 3


def test_create_answers_location_and_get_returns_the_same_job(client, auth, customer):
    response = client.post("/api/jobs", json={"customer_id": customer, "title": "Menu board"},
                           headers=auth.headers("manager"))
    assert response.status_code == 201 and response.get_json()["steps"] == []
    fetched = client.get(response.headers["Location"], headers=auth.headers("viewer"))
    assert fetched.status_code == 200 and fetched.get_json() == response.get_json()


def _step(db, code="print", **fields):
    return {"process_id": process_ids(db)[code], **fields}


@pytest.mark.parametrize("case, field", [
    ("no title", "title"), ("blank title", "title"), ("long title", "title"), ("NUL", "title"),
    ("unknown field", "colour"), ("status completed", "status"), ("bad date", "due_date"),
    ("bad priority", "priority"), ("unknown customer", "customer_id"), ("step without process", "steps.0.process_id"),
    ("unknown process", "steps.1.process_id"), ("unknown assignee", "steps.0.assigned_to"),
    ("viewer assignee", "steps.0.assigned_to"), ("unknown machine", "steps.0.machine_id"),
    ("too many steps", "steps"), ("step unknown field", "steps.0.colour"), ("inactive process", "steps.0.process_id"),
])
def test_create_validation_is_422_and_writes_nothing(client, auth, db, customer, case, field):
    body = {"customer_id": customer, "title": "Sign", "steps": [_step(db)]}
    if case == "inactive process":
        with db.cursor() as cur:
            cur.execute("UPDATE processes SET is_active = false WHERE code = 'print'")
    body.update({
        "no title": {"title": None}, "blank title": {"title": "   "}, "long title": {"title": "x" * 201},
        "NUL": {"title": "a\x00b"}, "unknown field": {"colour": "red"}, "status completed": {"status": "completed"},
        "bad date": {"due_date": "2030-02-30"}, "bad priority": {"priority": "asap"},
        "unknown customer": {"customer_id": customer + 1000},
        "step without process": {"steps": [{"name": "x"}]},
        "unknown process": {"steps": [_step(db), {"process_id": 999_999}]},
        "unknown assignee": {"steps": [_step(db, assigned_to=999_999)]},
        "viewer assignee": {"steps": [_step(db, assigned_to=auth.user_id("viewer"))]},
        "unknown machine": {"steps": [_step(db, machine_id=999_999)]},
        "too many steps": {"steps": [_step(db)] * 101},
        "step unknown field": {"steps": [_step(db, colour="red")]},
    }.get(case, {}))
    if case == "no title":
        del body["title"]
    response = client.post("/api/jobs", json=body, headers=auth.headers("manager"))
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.get_json()["errors"]]
    for table in ("jobs", "job_steps", "notifications", "audit_logs"):
        assert count(db, table) == 0, table


def test_create_with_a_body_that_is_not_json_is_400(client, auth, db):
    response = client.post("/api/jobs", data="{oops", content_type="application/json",
                           headers=auth.headers("manager"))
    assert response.status_code == 400 and count(db, "jobs") == 0


@pytest.fixture
def failing_step_trigger(db):
    """Make the database refuse a step named 'boom' after the job and earlier steps were inserted."""
    with db.cursor() as cur:
        cur.execute("""
            CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.name = 'boom' THEN
                    RAISE EXCEPTION 'step refused' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_refuse_boom BEFORE INSERT ON job_steps
                FOR EACH ROW EXECUTE FUNCTION test_refuse_boom();
        """)
    yield
    with db.cursor() as cur:
        cur.execute("DROP TRIGGER test_refuse_boom ON job_steps; DROP FUNCTION test_refuse_boom()")


def test_a_failing_step_rolls_back_the_job(client, auth, db, customer, failing_step_trigger):
    steps = [_step(db, assigned_to=auth.user_id("operator1")), _step(db, "cut", name="boom")]
    response = client.post("/api/jobs", json={"customer_id": customer, "title": "Sign", "steps": steps},
                           headers=auth.headers("manager"))
    assert response.status_code == 422
    for table in ("jobs", "job_steps", "notifications", "audit_logs"):
        assert count(db, table) == 0, table
    # The same request without the failing step goes through: the failure above was the step's.
    assert client.post("/api/jobs", json={"customer_id": customer, "title": "Sign", "steps": steps[:1]},
                       headers=auth.headers("manager")).status_code == 201


@pytest.mark.parametrize("user, status", [(None, 401), ("viewer", 403), ("operator1", 403)])
def test_only_managers_create_jobs(client, auth, db, customer, user, status):
    headers = auth.headers(user) if user else {}
    response = client.post("/api/jobs", json={"customer_id": customer, "title": "Sign"}, headers=headers)
    assert response.status_code == status and count(db, "jobs") == 0


@pytest.mark.parametrize("path", ["/api/jobs/999999", "/api/jobs/99999999999999999999999"])
def test_unknown_job_is_404(client, auth, path):
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(path, json={"title": "x"} if method == "patch" else None,
                                           headers=auth.headers("manager"))
        assert response.status_code == 404, (method, response.get_json())


@pytest.fixture
def listed(db, customer):
    """Jobs for the list tests: (title, status, due date, days ago created), by name."""
    other = add_customer(db, "Other Co")
    today = utc_today()
    rows = {
        "late banner": (customer, "active", today - timedelta(days=3), 5),
        "late but done": (customer, "completed", today - timedelta(days=3), 4),
        "due later 50%_off": (customer, "in_progress", today + timedelta(days=9), 3),
        "no due date": (other, "draft", None, 2),
        "cancelled late": (other, "cancelled", today - timedelta(days=1), 1),
    }
    now = datetime.now(UTC)
    ids = {title: add_job(db, customer_id, status, due, now - timedelta(days=days_ago), title=title)
           for title, (customer_id, status, due, days_ago) in rows.items()}
    ids["other"] = other
    return ids


def _titles(client, auth, query):
    response = client.get(f"/api/jobs?{query}", headers=auth.headers("viewer"))
    assert response.status_code == 200, response.get_json()
    return [job["title"] for job in response.get_json()["items"]]


@pytest.mark.parametrize("query, titles", [
    ("", ["cancelled late", "no due date", "due later 50%_off", "late but done", "late banner"]),
    ("order=asc", ["late banner", "late but done", "due later 50%_off", "no due date", "cancelled late"]),
    ("status=completed", ["late but done"]),
    ("overdue=true", ["late banner"]),
    ("overdue=false", ["cancelled late", "no due date", "due later 50%_off", "late but done"]),
    ("q=LATE", ["cancelled late", "due later 50%_off", "late but done", "late banner"]),
    ("q=0%25_off", ["due later 50%_off"]),
    ("q=late_b", []),
    ("q=%25_off", ["due later 50%_off"]),
    ("q=late%5C", []),
    ("sort=due_date&order=asc", ["late banner", "late but done", "cancelled late", "due later 50%_off",
                                 "no due date"]),
    ("sort=due_date&order=desc", ["due later 50%_off", "cancelled late", "late but done", "late banner",
                                  "no due date"]),
    ("status=active&overdue=true&q=banner", ["late banner"]),
])
def test_list_filters_and_sorts(client, auth, listed, query, titles):
    assert _titles(client, auth, query) == titles


def test_list_filters_by_customer_and_finds_by_job_number(client, auth, db, listed):
    assert _titles(client, auth, f"customer_id={listed['other']}") == ["cancelled late", "no due date"]
    with db.cursor() as cur:
        cur.execute("SELECT job_number FROM jobs WHERE id = %s", (listed["no due date"],))
        number = cur.fetchone()[0]
    assert _titles(client, auth, f"q={number.lower()}") == ["no due date"]


def test_a_whole_job_number_is_looked_up_by_the_unique_index(client, auth, db, listed):
    from psycopg2 import sql

    from apps.api.resources import jobs

    with db.cursor() as cur:
        cur.execute("SELECT job_number FROM jobs WHERE id = %s", (listed["late banner"],))
        number = cur.fetchone()[0]
    assert _titles(client, auth, f"q={number}") == ["late banner"]
    job_number, pattern = jobs._search(number.lower())
    assert (job_number, pattern) == (number, None)
    statement = sql.SQL(jobs.queries.list_jobs).format(match=sql.SQL(jobs.queries.match_jobs),
                                                       **jobs.ORDERS[("created_at", "desc")].parts(False))
    params = {"status": None, "customer_id": None, "overdue": None, "pattern": pattern, "job_number": job_number,
              "due_from": None, "due_to": None, "due_desc": False, "customer_ids": None, "customer_pattern": None,
              "limit": 21, "offset": 0}
    with db.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask which index the planner would take
        cur.execute(sql.SQL("EXPLAIN ") + statement, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "jobs_job_number_key" in plan and "trgm" not in plan, plan
    # Part of a number is still a substring search.
    assert jobs._search(number[:-2]) == (None, f"%{number[:-2]}%")


def test_list_pagination_and_items_carry_progress_and_customer(client, auth, db, customer):
    for index in range(5):
        create_job(client, auth, customer, steps=[_step(db, "design"), _step(db, "print")], title=f"Job {index}")
    body = client.get("/api/jobs?page=2&per_page=2", headers=auth.headers("operator1")).get_json()
    assert body["pagination"].pop("next_cursor")
    assert body["pagination"] == {"page": 2, "per_page": 2, "total": 5, "pages": 3,
                                  "has_next": True, "has_prev": True, "total_is_estimate": False}
    assert [job["title"] for job in body["items"]] == ["Job 2", "Job 1"]
    for job in body["items"]:
        assert job["customer_name"] == "Acme Signs" and job["is_overdue"] is False
        assert (job["steps_total"], job["steps_completed"]) == (2, 0) and "steps" not in job
    beyond = client.get("/api/jobs?page=9", headers=auth.headers("viewer")).get_json()
    assert beyond["items"] == [] and beyond["pagination"]["has_prev"] is True


@pytest.mark.parametrize("query, status", [
    ("per_page=101", 422), ("page=0", 422), ("per_page=abc", 400), ("status=bogus", 422),
    ("overdue=maybe", 400), ("sort=title", 422), ("order=up", 422), ("customer_id=0", 422),
    ("customer_id=x", 400), ("colour=red", 400), ("q=" + "x" * 201, 422),
    ("q=ab", 422), ("q=e_b", 422), ("cursor=abc", 400), ("page=502", 400),
])
def test_list_rejects_bad_query_strings(client, auth, query, status):
    response = client.get(f"/api/jobs?{query}", headers=auth.headers("viewer"))
    assert response.status_code == status and response.mimetype == "application/problem+json"


@pytest.fixture
def statements(monkeypatch):
    """Record every statement the views run through a dict cursor (the database is still real)."""
    seen = []
    original = psycopg2.extras.RealDictCursor.execute

    def execute(self, query, vars=None):
        seen.append(query)
        return original(self, query, vars)

    monkeypatch.setattr(psycopg2.extras.RealDictCursor, "execute", execute)
    return seen


def test_list_and_get_read_progress_and_steps_without_a_query_per_job(client, auth, db, customer, statements):
    for index in range(12):
        create_job(client, auth, customer, steps=[_step(db, "design"), _step(db, "cut")], title=f"J{index}")
    headers = auth.headers("viewer")
    statements.clear()
    body = client.get("/api/jobs?per_page=10", headers=headers).get_json()
    assert len(body["items"]) == 10 and all(job["steps_total"] == 2 for job in body["items"])
    assert len(statements) == 2  # the count and one page with every job's progress and customer
    statements.clear()
    assert len(client.get(f"/api/jobs/{body['items'][0]['id']}", headers=headers).get_json()["steps"]) == 2
    assert len(statements) == 1


def test_overdue_flag_follows_utc_today(client, auth, db, customer):
    yesterday = add_job(db, customer, "active", utc_today() - timedelta(days=2), title="Late")
    job = client.get(f"/api/jobs/{yesterday}", headers=auth.headers("viewer")).get_json()
    assert job["is_overdue"] is True


def _patch(client, auth, job_id, body, user="manager"):
    return client.patch(f"/api/jobs/{job_id}", json=body, headers=auth.headers(user))


def test_patch_changes_only_the_sent_fields_and_audits_them(client, auth, db, customer):
    job = create_job(client, auth, customer, description="Old", due_date="2030-01-01")
    other = add_customer(db, "Other Co")
    response = _patch(client, auth, job["id"], {"title": "New title", "description": None,
                                                 "priority": "urgent", "customer_id": other})
    assert response.status_code == 200
    changed = response.get_json()
    assert (changed["title"], changed["description"], changed["priority"], changed["customer_name"]) == (
        "New title", None, "urgent", "Other Co")
    assert changed["due_date"] == "2030-01-01" and changed["status"] == "draft"
    (_, action, entity, entity_id, changes) = audit_rows(db)[-1]
    assert (action, entity, entity_id) == ("update", "jobs", job["id"])
    assert changes == {"title": {"old": "Shop front banner", "new": "New title"},
                       "description": {"old": "Old", "new": None},
                       "priority": {"old": "normal", "new": "urgent"},
                       "customer_id": {"old": customer, "new": other}}


def test_patch_without_changes_writes_no_audit_row(client, auth, db, customer):
    job = create_job(client, auth, customer)
    for body in ({}, {"title": job["title"], "status": "draft"}):
        response = _patch(client, auth, job["id"], body)
        assert response.status_code == 200 and response.get_json()["title"] == job["title"]
    assert len(audit_rows(db)) == 1


@pytest.mark.parametrize("body, field", [
    ({"title": None}, "title"), ({"status": None}, "status"), ({"status": "done"}, "status"),
    ({"customer_id": 999_999}, "customer_id"), ({"due_date": "tomorrow"}, "due_date"),
    ({"priority": None}, "priority"), ({"colour": "red"}, "colour"), ({"description": "x" * 10001}, "description"),
])
def test_patch_validation_is_422_and_changes_nothing(client, auth, db, customer, body, field):
    job = create_job(client, auth, customer)
    response = _patch(client, auth, job["id"], body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert client.get(f"/api/jobs/{job['id']}", headers=auth.headers("viewer")).get_json() == job
    assert len(audit_rows(db)) == 1


LEGAL = {("draft", "active"), ("draft", "in_progress"), ("draft", "cancelled"), ("active", "draft"),
         ("active", "in_progress"), ("active", "on_hold"), ("active", "cancelled"), ("in_progress", "on_hold"),
         ("in_progress", "completed"), ("in_progress", "cancelled"), ("on_hold", "active"),
         ("on_hold", "in_progress"), ("on_hold", "cancelled"), ("cancelled", "draft")}
STATUSES = ("draft", "active", "in_progress", "on_hold", "completed", "cancelled")


@pytest.mark.parametrize("old", STATUSES)
def test_status_transitions_follow_the_table(client, auth, db, customer, old):
    for new in STATUSES:
        if new == old:
            continue
        job_id = add_job(db, customer, old)
        response = _patch(client, auth, job_id, {"status": new})
        expected = 200 if (old, new) in LEGAL else 409
        assert response.status_code == expected, (old, new, response.get_json())
        with db.cursor() as cur:
            cur.execute("SELECT status FROM jobs WHERE id = %s", (job_id,))
            assert cur.fetchone()[0] == (new if expected == 200 else old)


def test_a_job_with_open_steps_cannot_be_completed_by_hand(client, auth, db, customer):
    job = create_job(client, auth, customer, steps=[_step(db)], status="active")
    assert _patch(client, auth, job["id"], {"status": "in_progress"}).status_code == 200
    response = _patch(client, auth, job["id"], {"status": "completed"})
    assert response.status_code == 409 and "steps" in response.get_json()["detail"]
    with db.cursor() as cur:
        cur.execute("UPDATE job_steps SET status = 'skipped' WHERE job_id = %s", (job["id"],))
    assert _patch(client, auth, job["id"], {"status": "completed"}).get_json()["status"] == "completed"


def test_delete_removes_the_job_and_its_steps_and_audits(client, auth, db, customer):
    job = create_job(client, auth, customer, steps=[_step(db, assigned_to=auth.user_id("operator2"))])
    assert client.delete(f"/api/jobs/{job['id']}", headers=auth.headers("operator2")).status_code == 403
    response = client.delete(f"/api/jobs/{job['id']}", headers=auth.headers("manager"))
    assert response.status_code == 204 and response.data == b""
    assert (count(db, "jobs"), count(db, "job_steps"), count(db, "notifications")) == (0, 0, 0)
    (user_id, action, entity, entity_id, changes) = audit_rows(db)[-1]
    assert (user_id, action, entity, entity_id) == (auth.user_id("manager"), "delete", "jobs", job["id"])
    assert changes["title"] == {"old": "Shop front banner", "new": None}
    assert client.get(f"/api/jobs/{job['id']}", headers=auth.headers("viewer")).status_code == 404


def test_a_search_within_a_status_is_counted_along_the_status_index(client, auth, db, customer, statements):
    for index in range(3):
        add_job(db, customer, "active", None, datetime.now(UTC) - timedelta(days=index), title=f"Banner {index}")
    statements.clear()
    body = client.get("/api/jobs?status=active&q=banner&per_page=1", headers=auth.headers("viewer")).get_json()
    assert body["pagination"]["total"] == 3
    texts = [query.as_string(db) if hasattr(query, "as_string") else query for query in statements]
    counts = [text for text in texts if text.startswith("SELECT count(*)")]
    # The page's order (status, created_at, id) with sorting off: the planner can only walk that index.
    assert counts and "ORDER BY j.status DESC, j.created_at DESC, j.id DESC" in counts[0], counts
    assert "SET LOCAL enable_sort = off" in texts
