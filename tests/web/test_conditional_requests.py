"""Conditional requests (RFC 9110): strong ETags on item GETs, If-Match on PATCH and DELETE (412 when stale)."""
import threading

import psycopg2
import pytest

from tests.support.factories import add_customer, create_job
from tests.support.rows import process_ids
from tests.support.waiting import wait_for_lock_waiters


@pytest.fixture
def job(client, auth, db):
    processes = process_ids(db)
    return create_job(client, auth, add_customer(db), steps=[
        {"process_id": processes["print"], "assigned_to": auth.user_id("operator1")},
        {"process_id": processes["cut"]}])


def _notification(db, auth):
    with db.cursor() as cur:
        cur.execute("INSERT INTO notifications (user_id, kind, message) VALUES (%s, 'system', 'hi') RETURNING id",
                    (auth.user_id("viewer"),))
        return cur.fetchone()[0]


# path of an item -> (a change a manager or admin may make, who makes it)
ITEMS = {
    "customer": (lambda db, auth, job: f"/api/customers/{job['customer_id']}", {"phone": "555"}, "manager"),
    "job": (lambda db, auth, job: f"/api/jobs/{job['id']}", {"title": "Renamed"}, "manager"),
    "step": (lambda db, auth, job: f"/api/steps/{job['steps'][1]['id']}", {"status": "skipped"}, "manager"),
    "machine": (lambda db, auth, job: _machine(db), {"status": "maintenance"}, "manager"),
    "process": (lambda db, auth, job: f"/api/processes/{process_ids(db)['install']}", {"name": "Fit"}, "admin"),
    "user": (lambda db, auth, job: f"/api/users/{auth.user_id('operator3')}", {"full_name": "Jo"}, "admin"),
}


def _machine(db):
    with db.cursor() as cur:
        cur.execute("INSERT INTO machines (name, machine_type) VALUES ('Roland', 'printer') RETURNING id")
        return f"/api/machines/{cur.fetchone()[0]}"


def _strong(etag):
    return etag and etag.startswith('"') and etag.endswith('"') and len(etag) > 2


@pytest.mark.parametrize("item", ITEMS)
def test_item_get_answers_a_strong_etag_and_if_match_guards_changes(client, auth, db, job, item):
    locate, change, who = ITEMS[item]
    path, headers = locate(db, auth, job), auth.headers(who)
    read = client.get(path, headers=headers)
    etag = read.headers.get("ETag")
    assert read.status_code == 200 and _strong(etag)
    assert client.get(path, headers=headers).headers["ETag"] == etag  # unchanged row, same tag
    for stale in ('"0"', f"W/{etag}", '"nope", "0"'):
        refused = client.patch(path, json=change, headers={**headers, "If-Match": stale})
        assert refused.status_code == 412 and refused.mimetype == "application/problem+json"
        assert client.get(path, headers=headers).get_json() == read.get_json()  # nothing changed
    changed = client.patch(path, json=change, headers={**headers, "If-Match": f'"0", {etag}'})
    assert changed.status_code == 200 and _strong(changed.headers["ETag"]) and changed.headers["ETag"] != etag
    assert client.get(path, headers=headers).headers["ETag"] == changed.headers["ETag"]
    again = client.patch(path, json=change, headers={**headers, "If-Match": etag})  # the tag went stale
    assert again.status_code == 412


@pytest.mark.parametrize("item", ["customer", "machine", "process", "user", "step"])
def test_delete_with_a_stale_if_match_is_412_and_deletes_nothing(client, auth, db, item):
    processes = process_ids(db)
    job = create_job(client, auth, add_customer(db, "Solo"), steps=[{"process_id": processes["print"]}]) \
        if item == "step" else {"customer_id": add_customer(db, "Solo"), "steps": [], "id": 0}
    locate, _, who = ITEMS[item]
    if item == "process":
        with db.cursor() as cur:
            cur.execute("INSERT INTO processes (code, name, default_order) VALUES ('fold', 'Fold', 9) RETURNING id")
            path = f"/api/processes/{cur.fetchone()[0]}"
    else:
        path = locate(db, auth, job) if item != "step" else f"/api/steps/{job['steps'][0]['id']}"
    headers = auth.headers(who)
    etag = client.get(path, headers=headers).headers["ETag"]
    assert client.delete(path, headers={**headers, "If-Match": '"stale"'}).status_code == 412
    assert client.get(path, headers=headers).status_code == 200
    assert client.delete(path, headers={**headers, "If-Match": etag}).status_code == 204


def test_no_if_match_or_a_star_behaves_as_before(client, auth, job):
    headers = auth.headers("manager")
    assert client.patch(f"/api/jobs/{job['id']}", json={"title": "A"}, headers=headers).status_code == 200
    starred = client.patch(f"/api/jobs/{job['id']}", json={"title": "B"}, headers={**headers, "If-Match": "*"})
    assert starred.status_code == 200 and starred.get_json()["title"] == "B"
    assert client.delete(f"/api/jobs/{job['id']}", headers={**headers, "If-Match": "*"}).status_code == 204
    gone = client.patch(f"/api/jobs/{job['id']}", json={"title": "C"}, headers={**headers, "If-Match": "*"})
    assert gone.status_code == 404


def test_a_job_tag_follows_its_steps_and_its_customer(client, auth, job):
    path, headers = f"/api/jobs/{job['id']}", auth.headers("manager")
    first = client.get(path, headers=headers).headers["ETag"]
    started = client.patch(f"/api/steps/{job['steps'][0]['id']}", json={"status": "in_progress"},
                           headers=auth.headers("operator1"))
    assert started.status_code == 200
    second = client.get(path, headers=headers).headers["ETag"]
    client.patch(f"/api/customers/{job['customer_id']}", json={"name": "Acme Two"}, headers=headers)
    third = client.get(path, headers=headers).headers["ETag"]
    assert len({first, second, third}) == 3
    stale = client.patch(path, json={"priority": "high"}, headers={**headers, "If-Match": first})
    assert stale.status_code == 412


def test_a_step_transition_with_a_stale_tag_is_412(client, auth, db, job):
    step_path = f"/api/steps/{job['steps'][0]['id']}"
    etag = client.get(step_path, headers=auth.headers("operator1")).headers["ETag"]
    client.patch(step_path, json={"machine_id": None}, headers=auth.headers("manager"))  # someone else's write
    response = client.patch(step_path, json={"status": "in_progress"},
                            headers={**auth.headers("operator1"), "If-Match": etag})
    assert response.status_code == 412
    with db.cursor() as cur:
        cur.execute("SELECT status FROM job_steps WHERE id = %s", (job["steps"][0]["id"],))
        assert cur.fetchone()[0] == "pending"


def test_two_concurrent_writers_with_the_same_tag_one_gets_412(app, auth, database_url, db, job):
    """Both requests wait on the job's row lock held here; when it is released one wins, the other sees 412."""
    path = f"/api/jobs/{job['id']}"
    etag = app.test_client().get(path, headers=auth.headers("manager")).headers["ETag"]
    blocker = psycopg2.connect(database_url)
    cur = blocker.cursor()
    cur.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (job["id"],))
    answers = []

    def write(title):
        response = app.test_client().patch(path, json={"title": title},
                                           headers={**auth.headers("manager"), "If-Match": etag})
        answers.append((response.status_code, title))

    writers = [threading.Thread(target=write, args=(title,)) for title in ("First", "Second")]
    try:
        for writer in writers:
            writer.start()
        # Watched from another session: pg_stat_activity is a snapshot held for a whole transaction.
        wait_for_lock_waiters(db, 2)
    finally:
        blocker.rollback()
        blocker.close()
    for writer in writers:
        writer.join(10)
    assert sorted(status for status, _ in answers) == [200, 412]
    winner = next(title for status, title in answers if status == 200)
    assert app.test_client().get(path, headers=auth.headers("viewer")).get_json()["title"] == winner


def test_a_gzip_read_has_its_own_strong_tag_that_if_match_takes(client, auth, db):
    processes = process_ids(db)
    job = create_job(client, auth, add_customer(db, "Big Co"), description="x" * 3000,
                     steps=[{"process_id": processes["print"]}] * 5)
    path, headers = f"/api/jobs/{job['id']}", auth.headers("manager")
    plain = client.get(path, headers=headers).headers["ETag"]
    zipped = client.get(path, headers={**headers, "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and _strong(zipped.headers["ETag"])
    assert zipped.headers["ETag"] != plain
    changed = client.patch(path, json={"title": "Zipped"}, headers={**headers, "If-Match": zipped.headers["ETag"]})
    assert changed.status_code == 200
    again = client.patch(path, json={"title": "Late"}, headers={**headers, "If-Match": zipped.headers["ETag"]})
    assert again.status_code == 412
