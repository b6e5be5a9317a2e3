"""Devices (issue 28): a manager registers, lists and revokes boards and tablets; a device token reads only
what its kind needs and nothing else; the board's feed."""
import time

from tests.support.apps import SESSION_STATE_TTL
from tests.support.factories import add_customer, add_job, utc_today
from tests.support.floor import client_call, device_headers, pin_login, register_device, set_pin


def manager(client, auth):
    return client_call(client, auth.headers("manager"))


def test_a_manager_registers_a_device_and_sees_its_token_once(client, auth):
    status, answer = manager(client, auth)("POST", "/api/devices", {"name": "Wall by the door", "kind": "board"})
    assert status == 201
    assert {"id", "name", "kind", "token"} <= answer.keys() and answer["kind"] == "board"
    assert answer["token"].startswith("dev_") and len(answer["token"]) > 40
    listed = client.get("/api/devices", headers=auth.headers("manager")).get_json()
    [item] = [item for item in listed["items"] if item["id"] == answer["id"]]
    assert "token" not in item and item["last_used_at"] is None and item["revoked_at"] is None
    assert answer["token"] not in str(listed)
    client.get("/api/board", headers=device_headers(answer["token"]))
    listed = client.get("/api/devices", headers=auth.headers("manager")).get_json()
    assert [item["last_used_at"] for item in listed["items"] if item["id"] == answer["id"]] != [None]


def test_the_token_is_stored_only_as_a_hash(client, auth, db):
    _, token = register_device(manager(client, auth), "tablet")
    with db.cursor() as cur:
        cur.execute("SELECT encode(token_hash, 'hex') FROM devices")
        stored = [row[0] for row in cur.fetchall()]
    assert stored and all(token not in value for value in stored)
    import hashlib
    assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_devices_are_for_managers(client, auth):
    for username in ("viewer", "operator1"):
        response = client.post("/api/devices", json={"name": "x", "kind": "board"}, headers=auth.headers(username))
        assert response.status_code == 403
    bad = [{"name": "", "kind": "board"}, {"name": "x", "kind": "phone"}, {"name": "x", "kind": "tablet",
           "machine_id": 999999}, {"name": "x", "kind": "tablet", "idle_seconds": 5}]
    for body in bad:
        assert client.post("/api/devices", json=body, headers=auth.headers("manager")).status_code == 422, body


def test_a_device_token_reads_only_what_its_kind_needs(client, auth):
    call = manager(client, auth)
    _, board = register_device(call, "board")
    _, tablet = register_device(call, "tablet")
    for token in (board, tablet):
        for method, path in (("GET", "/api/jobs"), ("GET", "/api/auth/me"), ("GET", "/api/devices"),
                             ("POST", "/api/jobs"), ("GET", "/api/me/steps"), ("POST", "/api/auth/logout")):
            assert client.open(path, method=method, json={}, headers=device_headers(token)).status_code == 401
    assert client.get("/api/board", headers=device_headers(board)).status_code == 200
    assert client.get("/api/tablet", headers=device_headers(tablet)).status_code == 200
    assert client.get("/api/board", headers=device_headers(tablet)).status_code == 401
    assert client.get("/api/tablet", headers=device_headers(board)).status_code == 401
    assert pin_login(client, board, "operator1", "1234").status_code == 401
    assert client.get("/api/board").status_code == 401
    assert client.get("/api/board", headers=device_headers("dev_" + "x" * 43)).status_code == 401


def test_revoking_ends_the_token_and_its_sessions(client, auth):
    call = manager(client, auth)
    device_id, tablet = register_device(call, "tablet")
    set_pin(client, auth, "operator1", "2468")
    tokens = pin_login(client, tablet, "operator1", "2468").get_json()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/auth/me", headers=me).status_code == 200
    assert client.delete(f"/api/devices/{device_id}", headers=auth.headers("manager")).status_code == 204
    time.sleep(SESSION_STATE_TTL)
    assert client.get("/api/tablet", headers=device_headers(tablet)).status_code == 401
    assert client.get("/api/auth/me", headers=me).status_code == 401
    refreshed = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refreshed.status_code == 401
    assert client.delete(f"/api/devices/{device_id}", headers=auth.headers("manager")).status_code == 404
    listed = client.get("/api/devices", headers=auth.headers("manager")).get_json()["items"]
    assert [item["revoked_at"] is not None for item in listed if item["id"] == device_id] == [True]


def test_the_board_shows_running_steps_with_their_job_numbers(client, auth, db):
    customer = add_customer(db)
    late = add_job(db, customer, status="in_progress", due_date=utc_today().replace(year=2020),
                   steps=[(auth.user_id("operator1"), "in_progress"), (None, "completed")], title="Late banner")
    on_time = add_job(db, customer, status="active", steps=[(None, "pending")], title="Window vinyl")
    _, board = register_device(manager(client, auth), "board")
    answer = client.get("/api/board", headers=device_headers(board))
    assert answer.status_code == 200 and answer.headers["X-Cache"] == "MISS"
    body = answer.get_json()
    with db.cursor() as cur:
        cur.execute("SELECT id, job_number FROM jobs WHERE id IN (%s, %s)", (late, on_time))
        numbers = dict(cur.fetchall())
    assert [(step["job_number"], step["late"]) for step in body["running"]] == [(numbers[late], True)]
    assert body["late_jobs"] >= 1 and body["done_today"]["total"] == 1
    again = client.get("/api/board", headers={**device_headers(board), "If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    with db.cursor() as cur:  # a step starts: the cached answer is dropped (LISTEN) and the board shows it
        cur.execute("UPDATE job_steps SET status = 'in_progress', started_at = now() WHERE job_id = %s", (on_time,))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        body = client.get("/api/board", headers=device_headers(board)).get_json()
        if len(body["running"]) == 2:
            break
        time.sleep(0.05)
    assert [step["job_number"] for step in body["running"]] == [numbers[on_time], numbers[late]]  # newest first
