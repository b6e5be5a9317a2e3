"""Idempotency-Key on creating POSTs: replay, another body, a concurrent double submit, keys per user."""
import threading
import uuid

import pytest

from tests.support.factories import add_customer
from tests.support.rows import audit_rows, count, process_ids

THREADS = 6


@pytest.fixture
def shared_app(database_url, new_app):
    """An app whose pool has a connection for every thread."""
    return new_app(database_url, DB_POOL_MAX_CONNECTIONS=THREADS + 2)


def _job(customer_id, db, title="Shop front banner"):
    return {"customer_id": customer_id, "title": title,
            "steps": [{"process_id": process_ids(db)["print"]}, {"process_id": process_ids(db)["print"]}]}


def test_same_key_and_body_answers_the_first_answer_and_creates_nothing(client, auth, db):
    headers = dict(auth.headers("manager"), **{"Idempotency-Key": str(uuid.uuid4())})
    body = _job(add_customer(db), db)
    first = client.post("/api/jobs", json=body, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = client.post("/api/jobs", json=dict(reversed(list(body.items()))), headers=headers)  # same, reordered
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"] and again.headers["ETag"] == first.headers["ETag"]
    assert (count(db, "jobs"), count(db, "job_steps"), len(audit_rows(db, "jobs"))) == (1, 2, 1)


def test_same_key_with_another_body_or_path_is_a_422(client, auth, db):
    headers = dict(auth.headers("manager"), **{"Idempotency-Key": "retry-1"})
    customer = add_customer(db)
    assert client.post("/api/jobs", json=_job(customer, db), headers=headers).status_code == 201
    other = client.post("/api/jobs", json=_job(customer, db, title="Another"), headers=headers)
    assert other.status_code == 422 and other.content_type == "application/problem+json"
    assert other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    elsewhere = client.post("/api/customers", json={"name": "Oak Print"}, headers=headers)
    assert elsewhere.status_code == 422
    assert (count(db, "jobs"), count(db, "customers")) == (1, 1)


def test_keys_belong_to_their_user(client, auth, db):
    body = {"name": "Harbor Signs"}
    for user in ("manager", "admin"):
        headers = dict(auth.headers(user), **{"Idempotency-Key": "k"})
        response = client.post("/api/customers", json=body, headers=headers)
        assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert count(db, "customers") == 2


def test_a_failed_request_keeps_no_key_and_a_retry_runs_again(client, auth, db):
    headers = dict(auth.headers("manager"), **{"Idempotency-Key": "after-a-fix"})
    body = {"customer_id": 999999, "title": "Nobody's job"}
    assert client.post("/api/jobs", json=body, headers=headers).status_code == 422
    body["customer_id"] = add_customer(db)
    retried = client.post("/api/jobs", json=body, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert count(db, "jobs") == 1 and count(db, "idempotency_keys") == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "caf\u00e9"])
def test_a_malformed_key_is_a_400_and_creates_nothing(client, auth, db, key):
    headers = dict(auth.headers("manager"), **{"Idempotency-Key": key.encode().decode("latin-1")})
    response = client.post("/api/customers", json={"name": "Oak Print"}, headers=headers)
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert count(db, "customers") == 0


def test_every_creating_post_takes_the_key(client, auth, db):
    """Customers, jobs, a job's steps, machines, processes, pause reasons, users: each replays its first answer."""
    customer = add_customer(db)
    job_id = client.post("/api/jobs", json={"customer_id": customer, "title": "T"},
                         headers=auth.headers("manager")).get_json()["id"]
    creations = [("/api/customers", {"name": "Oak Print"}, "customers"),
                 (f"/api/jobs/{job_id}/steps", {"process_id": process_ids(db)["print"]}, "job_steps"),
                 ("/api/machines", {"name": "Press 9", "machine_type": "offset"}, "machines"),
                 ("/api/processes", {"code": "foil", "name": "Foil", "default_order": 9}, "processes"),
                 ("/api/pause-reasons", {"code": "ink", "label": "Waiting for ink"}, "pause_reasons"),
                 ("/api/users", {"username": "newbie", "password": "a long enough password", "role": "viewer",
                                 "full_name": "New Bie", "email": "newbie@example.com"}, "users")]
    for path, body, table in creations:
        headers = dict(auth.headers("admin"), **{"Idempotency-Key": f"key-{table}"})
        before = count(db, table)
        first = client.post(path, json=body, headers=headers)
        assert first.status_code == 201, (path, first.get_json())
        again = client.post(path, json=body, headers=headers)
        assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true"), path
        assert again.get_json() == first.get_json()
        assert count(db, table) == before + 1, path


def test_a_concurrent_double_submit_creates_one_job(shared_app, auth, db):
    headers = dict(auth.headers("manager"), **{"Idempotency-Key": str(uuid.uuid4())})
    body = _job(add_customer(db), db)
    barrier = threading.Barrier(THREADS)
    answers, errors = [None] * THREADS, []

    def submit(index):
        try:
            client = shared_app.test_client()
            barrier.wait(timeout=10)
            response = client.post("/api/jobs", json=body, headers=headers)
            answers[index] = (response.status_code, response.headers.get("Idempotent-Replayed"),
                              response.get_json()["id"])
        except Exception as exc:  # reported in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert {status for status, _, _ in answers} == {201}
    assert len({job_id for _, _, job_id in answers}) == 1
    assert sorted(replayed or "" for _, replayed, _ in answers) == [""] + ["true"] * (THREADS - 1)
    assert (count(db, "jobs"), count(db, "job_steps")) == (1, 2)


def test_the_openapi_document_names_the_header_on_creating_posts(client):
    document = client.get("/api/openapi.json").get_json()
    for path in ("/api/customers", "/api/jobs", "/api/jobs/{job_id}/steps", "/api/machines", "/api/processes",
                 "/api/pause-reasons", "/api/users"):
        names = [parameter["name"] for parameter in document["paths"][path]["post"]["parameters"]]
        assert "Idempotency-Key" in names, path
    assert "Idempotency-Key" not in [p["name"] for p in document["paths"]["/api/auth/login"]["post"]["parameters"]]
