"""Concurrent writers: race-free job numbers, and step changes that never lose a job transition."""
import re
import threading

import pytest

from tests.support.factories import add_customer, create_job
from tests.support.rows import audit_rows, count, process_ids

THREADS = 8


@pytest.fixture
def shared_app(database_url, new_app):
    """An app whose pool has a connection for every thread."""
    return new_app(database_url, DB_POOL_MAX_CONNECTIONS=THREADS + 2)


def run_together(work, threads=THREADS):
    """Run work(index) in `threads` threads released at the same moment; return the results in order."""
    barrier = threading.Barrier(threads)
    results, errors = [None] * threads, []

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as exc:  # reported below, in the test's own thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_creation_gives_unique_job_numbers(shared_app, auth, db):
    customer = add_customer(db)
    headers = auth.headers("manager")
    print_id = process_ids(db)["print"]

    def create_jobs(index):
        client = shared_app.test_client()  # one client per thread, like separate users
        answers = []
        for number in range(4):
            response = client.post("/api/jobs", headers=headers, json={
                "customer_id": customer, "title": f"T{index}-{number}", "steps": [{"process_id": print_id}]})
            answers.append((response.status_code, response.get_json()["job_number"]))
        return answers

    answers = [answer for answers in run_together(create_jobs) for answer in answers]
    assert {status for status, _ in answers} == {201}
    numbers = [number for _, number in answers]
    assert len(set(numbers)) == len(numbers) == THREADS * 4
    assert all(re.fullmatch(r"JOB-\d{7}", number) for number in numbers)
    assert (count(db, "jobs"), count(db, "job_steps")) == (THREADS * 4, THREADS * 4)


def _job_with_steps(client, auth, db, status):
    """A job with THREADS steps, all in `status` (the job in_progress when they are)."""
    print_id = process_ids(db)["print"]
    job = create_job(client, auth, add_customer(db, f"Customer {status}"),
                     steps=[{"process_id": print_id}] * THREADS)
    if status == "in_progress":
        with db.cursor() as cur:
            cur.execute("UPDATE jobs SET status = 'in_progress' WHERE id = %s", (job["id"],))
            cur.execute("UPDATE job_steps SET status = 'in_progress', started_at = now() WHERE job_id = %s",
                        (job["id"],))
    return job


def _job_audit(db, job_id):
    return [changes for _, action, _, entity_id, changes in audit_rows(db, "jobs")
            if action == "update" and entity_id == job_id]


@pytest.mark.parametrize("round_", range(3))
def test_completing_every_step_at_once_still_completes_the_job(shared_app, client, auth, db, round_):
    job = _job_with_steps(client, auth, db, "in_progress")
    headers = auth.headers("manager")

    def complete(index):
        response = shared_app.test_client().patch(f"/api/steps/{job['steps'][index]['id']}",
                                                  json={"status": "completed"}, headers=headers)
        return response.status_code

    assert run_together(complete) == [200] * THREADS
    assert client.get(f"/api/jobs/{job['id']}", headers=headers).get_json()["status"] == "completed"
    assert _job_audit(db, job["id"]) == [{"status": {"old": "in_progress", "new": "completed"}}]


def test_starting_every_step_at_once_moves_the_job_exactly_once(shared_app, client, auth, db):
    job = _job_with_steps(client, auth, db, "pending")
    headers = auth.headers("manager")

    def start(index):
        return shared_app.test_client().patch(f"/api/steps/{job['steps'][index]['id']}",
                                              json={"status": "in_progress"}, headers=headers).status_code

    assert run_together(start) == [200] * THREADS
    assert _job_audit(db, job["id"]) == [{"status": {"old": "draft", "new": "in_progress"}}]


def test_concurrent_step_additions_get_distinct_positions(shared_app, client, auth, db):
    job = create_job(client, auth, add_customer(db))
    headers = auth.headers("manager")
    cut_id = process_ids(db)["cut"]

    def add(index):
        response = shared_app.test_client().post(f"/api/jobs/{job['id']}/steps", json={"process_id": cut_id},
                                                 headers=headers)
        return response.status_code, response.get_json().get("step_order")

    results = run_together(add)
    assert {status for status, _ in results} == {201}
    assert sorted(order for _, order in results) == list(range(1, THREADS + 1))
