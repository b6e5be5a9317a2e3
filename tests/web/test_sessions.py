"""Sessions: a login starts one, refresh rotates, a spent refresh token ends it, account changes end them all.

Each test here is a regression test of a defect reproduced on the previous main (issue 12).
"""
import threading
import time

import psycopg2
import pytest

from tests.support.apps import SESSION_STATE_TTL
from tests.support.auth import DEMO_PASSWORD, AuthActions
from tests.support.waiting import wait_for_lock_waiters


def login(client, username="admin", password=DEMO_PASSWORD, **headers):
    response = client.post("/api/auth/login", json={"username": username, "password": password}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def refused(client, tokens):
    """Tell whether both of a login's tokens are refused (401)."""
    return (client.get("/api/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
            and client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 401)


def test_logout_ends_the_refresh_token_too(client):
    tokens = login(client)
    assert client.post("/api/auth/logout", headers=bearer(tokens["access_token"])).status_code == 200
    assert refused(client, tokens)  # on main the refresh token minted access tokens for 30 days


def test_refresh_rotates_and_a_spent_refresh_token_ends_the_session(client):
    tokens = login(client)
    response = client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    second = response.get_json()
    assert second["refresh_token"] != tokens["refresh_token"]
    assert client.get("/api/auth/me", headers=bearer(second["access_token"])).status_code == 200
    third = client.post("/api/auth/refresh", headers=bearer(second["refresh_token"])).get_json()
    # The spent one again (a thief's copy, say): the whole session ends, the newest tokens included.
    reused = client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert reused.status_code == 401 and "already used" in reused.get_json()["detail"]
    assert refused(client, third) and refused(client, second)


def test_token_answers_are_not_stored(client):
    response = client.post("/api/auth/login", json={"username": "viewer", "password": DEMO_PASSWORD})
    assert response.headers["Cache-Control"] == "no-store"


def test_sessions_list_marks_the_current_one_and_can_end_one(client, auth):
    first = login(client, "viewer", **{"User-Agent": "phone"})
    second = login(client, "viewer", **{"User-Agent": "laptop"})
    listed = client.get("/api/auth/sessions", headers=bearer(second["access_token"]))
    assert listed.headers["Cache-Control"] == "no-store"
    items = listed.get_json()["items"]
    assert [(item["user_agent"], item["current"], item["ip"]) for item in items] == [
        ("laptop", True, "127.0.0.1"), ("phone", False, "127.0.0.1")]
    assert {"id", "created_at", "last_used_at"} <= set(items[0])
    phone = items[1]["id"]
    # Nobody ends another user's session, not even knowing its id.
    other = client.delete(f"/api/auth/sessions/{phone}", headers=auth.headers("admin"))
    assert other.status_code == 404
    assert client.delete(f"/api/auth/sessions/{phone}", headers=bearer(second["access_token"])).status_code == 204
    assert refused(client, first)
    assert client.get("/api/auth/me", headers=bearer(second["access_token"])).status_code == 200


def test_admin_ends_every_session_of_a_user(client, auth):
    sessions = [login(client, "operator1"), login(client, "operator1")]
    assert client.delete(f"/api/users/{auth.user_id('operator1')}/sessions",
                         headers=auth.headers("manager")).status_code == 403
    response = client.delete(f"/api/users/{auth.user_id('operator1')}/sessions", headers=auth.headers("admin"))
    assert response.status_code == 204
    assert all(refused(client, tokens) for tokens in sessions)
    assert client.delete("/api/users/999999/sessions", headers=auth.headers("admin")).status_code == 404


@pytest.mark.parametrize("there, back", [({"is_active": False}, {"is_active": True}),
                                         ({"role": "viewer"}, {"role": "operator"})])
def test_a_change_undone_does_not_revive_old_tokens(client, auth, there, back):
    tokens = login(client, "operator2")
    url, admin = f"/api/users/{auth.user_id('operator2')}", auth.headers("admin")
    assert client.patch(url, json=there, headers=admin).status_code == 200
    assert client.patch(url, json=back, headers=admin).status_code == 200
    assert refused(client, tokens)
    assert login(client, "operator2")["user"]["role"] == "operator"  # a new login works


def test_a_password_change_ends_tokens_issued_in_the_same_second(client, auth):
    tokens = login(client, "operator3")
    response = client.patch(f"/api/users/{auth.user_id('operator3')}", json={"password": "new-password-123"},
                            headers=auth.headers("admin"))
    assert response.status_code == 200
    assert refused(client, tokens)  # on main: accepted when issued within the same whole second


def test_logout_is_seen_by_another_app_within_its_session_state_ttl(client, database_url, new_app):
    other = new_app(database_url).test_client()
    tokens = login(client)
    assert other.get("/api/auth/me", headers=bearer(tokens["access_token"])).status_code == 200
    client.post("/api/auth/logout", headers=bearer(tokens["access_token"]))
    time.sleep(SESSION_STATE_TTL + 0.1)
    assert refused(other, tokens)


def _refreshed_access(client, username="admin"):
    tokens = login(client, username)
    return client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"])).get_json()["access_token"]


@pytest.mark.parametrize("method, path, body", [
    ("PATCH", "/api/users/{operator4}", {"role": "manager"}),
    ("PATCH", "/api/users/{operator4}", {"password": "another-password-1"}),
    ("POST", "/api/users", {"username": "newcomer", "role": "admin", "password": "pw-123456789"}),
    ("PUT", "/api/roles/operator/permissions", {"process_ids": []}),
])
def test_user_administration_needs_a_fresh_login(client, auth, db, method, path, body):
    path = path.format(operator4=auth.user_id("operator4"))
    with db.cursor() as cur:
        cur.execute("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM users t")
        users_before = cur.fetchone()
    stale = client.open(path, method=method, json=body, headers=bearer(_refreshed_access(client)))
    assert stale.status_code == 401 and "fresh login" in stale.get_json()["detail"]
    with db.cursor() as cur:
        cur.execute("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM users t")
        assert cur.fetchone() == users_before
    fresh = client.open(path, method=method, json=body, headers=bearer(login(client)["access_token"]))
    assert fresh.status_code in (200, 201), fresh.get_json()
    # Not every change needs one: a name change with a refreshed token is fine.
    renamed = client.patch(f"/api/users/{auth.user_id('viewer')}", json={"full_name": "V"},
                           headers=bearer(_refreshed_access(client)))
    assert renamed.status_code == 200


@pytest.mark.parametrize("change", [{"role": "manager"}, {"is_active": False}])
def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, database_url, db, change):
    with db.cursor() as cur:
        cur.execute("INSERT INTO users (username, role, password_hash) SELECT 'admin2', 'admin', password_hash "
                    "FROM users WHERE username = 'admin'")
    auth = AuthActions(app, database_url)
    first, second = auth.user_id("admin"), auth.user_id("admin2")
    headers = {first: auth.headers("admin"), second: auth.headers("admin2")}
    blocker = psycopg2.connect(database_url)
    statuses = {}
    try:
        with blocker.cursor() as cur:  # hold both rows so the two requests truly overlap
            cur.execute("SELECT id FROM users WHERE id IN (%s, %s) FOR UPDATE", (first, second))

        def demote(actor, target):
            client = app.test_client()
            statuses[actor] = client.patch(f"/api/users/{target}", json=change, headers=headers[actor]).status_code

        threads = [threading.Thread(target=demote, args=pair) for pair in ((first, second), (second, first))]
        for thread in threads:
            thread.start()
        wait_for_lock_waiters(db, 2)
    finally:
        blocker.commit()
        for thread in threads:
            thread.join(timeout=20)
        blocker.close()
    assert sorted(statuses.values()) == [200, 409], statuses  # main: [200, 200] and no admin left
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM users WHERE role = 'admin' AND is_active")
        assert cur.fetchone()[0] == 1


def test_failed_logins_are_recorded_for_admins(client, auth, db):
    secret_guess = "hunter2-guess"
    for name in ("admin", "nobody-like-this"):
        response = client.post("/api/auth/login", json={"username": name, "password": secret_guess},
                               headers={"User-Agent": "x"})
        assert response.status_code == 401
    with db.cursor() as cur:
        cur.execute("SELECT t::text FROM failed_logins t")
        rows = [row[0] for row in cur.fetchall()]
    assert len(rows) == 2 and not any(secret_guess in row for row in rows)
    assert client.get("/api/audit-logs/failed-logins", headers=auth.headers("manager")).status_code == 403
    listed = client.get("/api/audit-logs/failed-logins?ip=127.0.0.1", headers=auth.headers("admin")).get_json()
    assert [(item["username"], item["ip"]) for item in listed["items"]] == [
        ("nobody-like-this", "127.0.0.1"), ("admin", "127.0.0.1")]
    assert listed["items"][0]["attempted_at"] and listed["pagination"]["total"] == 2


def test_a_worker_asks_the_database_about_a_session_at_most_once_per_ttl(client, auth, monkeypatch):
    from apps.api.web import sessions

    lookups, load_role = [], sessions._load_role
    monkeypatch.setattr(sessions, "_load_role", lambda sid, subject: lookups.append(sid) or load_role(sid, subject))
    headers = auth.headers("viewer")
    started = time.monotonic()
    for _ in range(300):
        assert client.get("/api/auth/token", headers=headers).status_code == 200
    seconds = time.monotonic() - started
    assert 1 <= len(lookups) <= seconds / SESSION_STATE_TTL + 1, (len(lookups), seconds)


@pytest.mark.multiprocess
def test_logout_is_refused_by_every_gunicorn_worker_within_a_second(database_url):
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.checks import each_worker_db_health
    from tests.support.gunicorn import GunicornServer

    with GunicornServer(database_url, workers=2, env={"RATE_LIMITS_ENABLED": "false"}) as server:
        def tokens_of(username):
            credentials = {"username": username, "password": DEMO_PASSWORD}
            status, _, body = server.request("POST", "/api/auth/login", credentials)
            assert status == 200
            return {"Authorization": f"Bearer {body['access_token']}"}

        leaving, staying = tokens_of("admin"), tokens_of("admin")  # two sessions; pids: admins only
        each_worker_db_health(server, leaving)  # every worker has seen (and cached) the session as live
        assert server.request("POST", "/api/auth/logout", headers=leaving)[0] == 200
        time.sleep(1.1)
        refused, served_by = set(), set()
        for _ in range(10):  # bursts until the live session's answers show that every worker was asked
            with ThreadPoolExecutor(16) as pool:
                calls = [pool.submit(server.request, "GET", "/api/health/db", None, headers)
                         for _ in range(8) for headers in (leaving, staying)]
                answers = [call.result() for call in calls]
            refused |= {status for status, _, _ in answers[0::2]}
            served_by |= {body["pool_stats"]["pid"] for status, _, body in answers[1::2] if status == 200}
            if served_by == set(server.worker_pids()):
                break
        assert served_by == set(server.worker_pids()) and refused == {401}
