"""Work queues page to their end (issue 26): /api/me/steps and a machine's queue by keyset cursor, with
totals, the paused steps between running and waiting ones, and the machine and status filters."""
import pytest

from tests.support.factories import add_customer, add_job


@pytest.fixture
def queue(db, auth):
    """45 steps for operator1 on one machine: 40 pending, 2 in progress, 3 paused; 5 on no machine."""
    operator = auth.user_id("operator1")
    customer = add_customer(db)
    for _ in range(5):
        add_job(db, customer, status="in_progress", steps=[(operator, "pending")] * 10)
    with db.cursor() as cur:
        cur.execute("INSERT INTO machines (name, machine_type, status) VALUES ('Roland', 'printer', 'active') "
                    "RETURNING id")
        machine_id = cur.fetchone()[0]
        cur.execute("UPDATE job_steps SET machine_id = %s WHERE step_order <= 9", (machine_id,))
        cur.execute("UPDATE job_steps SET status = 'in_progress', started_at = now(), timer_started_at = now() "
                    "WHERE step_order = 1 AND job_id IN (SELECT min(id) FROM jobs UNION SELECT max(id) FROM jobs)")
        cur.execute("UPDATE job_steps SET status = 'paused', started_at = now(), timer_started_at = now(), "
                    "pause_reason = 'break' WHERE step_order = 2 AND job_id IN (SELECT id FROM jobs LIMIT 3)")
    return machine_id


def walk(client, auth, path):
    """Follow next_cursor from the first page to the last; return (items, totals seen, pages)."""
    items, totals, pages, url = [], set(), 0, path
    while url:
        body = client.get(url, headers=auth.headers("operator1")).get_json()
        items += body["items"]
        totals.add(body["pagination"]["total"])
        pages += 1
        cursor = body["pagination"]["next_cursor"]
        url = f"{path}&cursor={cursor}" if cursor else None
    return items, totals, pages


def test_my_steps_page_to_their_end_with_the_total(client, auth, queue):
    items, totals, pages = walk(client, auth, "/api/me/steps?per_page=20")
    assert len(items) == 50 and len({item["id"] for item in items}) == 50
    assert totals == {50} and pages == 3
    assert [item["status"] for item in items[:5]] == ["in_progress"] * 2 + ["paused"] * 3
    assert items[2]["pause_reason"] == "break" and "worked_seconds" in items[0]


def test_my_steps_filter_by_status_and_machine(client, auth, queue):
    paused, totals, _ = walk(client, auth, "/api/me/steps?per_page=2&status=paused")
    assert [item["status"] for item in paused] == ["paused"] * 3 and totals == {3}
    on_machine, totals, _ = walk(client, auth, f"/api/me/steps?per_page=20&machine_id={queue}")
    assert len(on_machine) == 45 and totals == {45} and {item["machine_id"] for item in on_machine} == {queue}
    assert client.get("/api/me/steps?status=resting", headers=auth.headers("operator1")).status_code in (400, 422)


def test_a_machines_queue_pages_to_its_end_with_paused_steps(client, auth, queue):
    items, totals, pages = walk(client, auth, f"/api/machines/{queue}/queue?per_page=20")
    assert len(items) == 45 and totals == {45} and pages == 3
    assert [item["status"] for item in items[:5]] == ["in_progress"] * 2 + ["paused"] * 3
