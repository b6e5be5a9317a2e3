"""Notifications: only the owner's, newest first, unread filter, mark read; others' ids are 404."""
import pytest

from apps.api.resources.notifications import queries


def _notify(db, user_id, message, is_read=False, minutes_ago=0):
    with db.cursor() as cur:
        cur.execute("INSERT INTO notifications (user_id, kind, message, is_read, created_at) "
                    "VALUES (%s, 'system', %s, %s, now() - make_interval(mins => %s)) RETURNING id",
                    (user_id, message, is_read, minutes_ago))
        return cur.fetchone()[0]


def _is_read(db, notification_id):
    with db.cursor() as cur:
        cur.execute("SELECT is_read FROM notifications WHERE id = %s", (notification_id,))
        return cur.fetchone()[0]


def _audit(db):
    with db.cursor() as cur:
        cur.execute("SELECT user_id, action, entity, entity_id, changes FROM audit_logs ORDER BY id")
        return cur.fetchall()


@pytest.fixture
def inboxes(db, auth):
    """Three notifications for operator1 (one read), one for operator2."""
    mine = auth.user_id("operator1")
    return {
        "old": _notify(db, mine, "old", minutes_ago=30),
        "read": _notify(db, mine, "read", is_read=True, minutes_ago=20),
        "new": _notify(db, mine, "new", minutes_ago=10),
        "theirs": _notify(db, auth.user_id("operator2"), "theirs"),
    }


def test_list_shows_only_the_callers_newest_first(client, auth, inboxes):
    response = client.get("/api/notifications", headers=auth.headers("operator1"))
    assert response.status_code == 200
    body = response.get_json()
    assert [item["message"] for item in body["items"]] == ["new", "read", "old"]
    assert body["pagination"]["total"] == 3
    assert client.get("/api/notifications", headers=auth.headers("viewer")).get_json()["items"] == []


def test_unread_filter(client, auth, inboxes):
    response = client.get("/api/notifications?unread=true", headers=auth.headers("operator1"))
    assert [item["message"] for item in response.get_json()["items"]] == ["new", "old"]
    every = client.get("/api/notifications?unread=false", headers=auth.headers("operator1")).get_json()
    assert every["pagination"]["total"] == 3


@pytest.mark.parametrize("query, status", [("unread=perhaps", 400), ("per_page=101", 422), ("user_id=1", 400)])
def test_bad_queries(client, auth, query, status):
    response = client.get(f"/api/notifications?{query}", headers=auth.headers("operator1"))
    assert response.status_code == status and response.mimetype == "application/problem+json"


def test_get_own_and_not_anothers(client, auth, inboxes):
    headers = auth.headers("operator1")
    assert client.get(f"/api/notifications/{inboxes['new']}", headers=headers).get_json()["message"] == "new"
    theirs = client.get(f"/api/notifications/{inboxes['theirs']}", headers=headers)
    unknown = client.get("/api/notifications/999999", headers=headers)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.get_json()["title"] == unknown.get_json()["title"]


def test_mark_read_and_audit(client, auth, db, inboxes):
    response = client.post(f"/api/notifications/{inboxes['new']}/read", headers=auth.headers("operator1"))
    assert response.status_code == 200 and response.get_json()["is_read"] is True
    assert _is_read(db, inboxes["new"]) is True
    assert _audit(db) == [(auth.user_id("operator1"), "update", "notifications", inboxes["new"],
                           {"is_read": {"old": False, "new": True}})]
    again = client.post(f"/api/notifications/{inboxes['new']}/read", headers=auth.headers("operator1"))
    assert again.status_code == 200 and len(_audit(db)) == 1  # nothing changed, nothing recorded


@pytest.mark.parametrize("user", ["operator1", "admin"])
def test_another_users_notification_is_404_and_stays_unread(client, auth, db, inboxes, user):
    response = client.post(f"/api/notifications/{inboxes['theirs']}/read", headers=auth.headers(user))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert _is_read(db, inboxes["theirs"]) is False and _audit(db) == []


def test_mark_all_read_touches_only_the_callers(client, auth, db, inboxes):
    response = client.post("/api/notifications/read-all", headers=auth.headers("operator1"))
    assert response.status_code == 200 and response.get_json() == {"marked": 2}
    assert _is_read(db, inboxes["old"]) and _is_read(db, inboxes["new"])
    assert _is_read(db, inboxes["theirs"]) is False
    [(user_id, action, entity, entity_id, changes)] = _audit(db)
    assert (user_id, action, entity, entity_id, changes["marked"]) == (
        auth.user_id("operator1"), "update", "notifications", None, 2)


def test_needs_a_token(client, inboxes):
    assert client.get("/api/notifications").status_code == 401
    assert client.post(f"/api/notifications/{inboxes['new']}/read").status_code == 401


def _unread_counts(client, auth, users):
    """{user: the `unread` of their notifications list} for `users`."""
    return {user: client.get("/api/notifications?per_page=1", headers=auth.headers(user)).get_json()["unread"]
            for user in users}


def _true_unread(db, auth, users):
    """{user: how many of their notifications are unread}, counted row by row."""
    with db.cursor() as cur:
        cur.execute("SELECT user_id, count(*) FROM notifications WHERE NOT is_read GROUP BY user_id")
        by_id = dict(cur.fetchall())
    return {user: by_id.get(auth.user_id(user), 0) for user in users}


def _drift(db):
    with db.cursor() as cur:
        cur.execute("SELECT * FROM dashboard_counter_drift")
        return cur.fetchall()


def test_the_unread_count_follows_every_kind_of_write_without_counting_rows(client, auth, db, inboxes):
    """The list's `unread` is a counter the database keeps (migration 0090): every way a notification is
    written, read, made unread again or removed moves it, and `dashboard verify`'s recount agrees."""
    users = ("operator1", "operator2", "operator3", "manager")
    checks = []

    def check():
        checks.append((_unread_counts(client, auth, users), _true_unread(db, auth, users), _drift(db)))
        listed, true, drift = checks[-1]
        assert listed == true and drift == [], (len(checks), listed, true, drift)

    check()  # the fixture's rows: 2 unread for operator1, 1 for operator2
    with db.cursor() as cur:  # a bulk insert for several users, read and unread, in one statement
        cur.execute("INSERT INTO notifications (user_id, kind, message, is_read) "
                    "SELECT u.id, 'system', 'bulk ' || g, g % 3 = 0 FROM users u, generate_series(1, 9) g "
                    "WHERE u.username IN ('operator2', 'operator3', 'manager')")
    check()
    assert client.post(f"/api/notifications/{inboxes['new']}/read",
                       headers=auth.headers("operator1")).status_code == 200
    check()
    assert client.post("/api/notifications/read-all", headers=auth.headers("operator3")).status_code == 200
    check()
    with db.cursor() as cur:  # made unread again, moved to another user, deleted
        cur.execute("UPDATE notifications SET is_read = false WHERE id = %s", (inboxes["read"],))
        cur.execute("UPDATE notifications SET user_id = %s WHERE id = %s",
                    (auth.user_id("operator3"), inboxes["theirs"]))
        cur.execute("DELETE FROM notifications WHERE id = %s", (inboxes["old"],))
    check()
    with db.cursor() as cur:  # a savepoint rolled back changes nothing
        db.autocommit = False
        try:
            cur.execute("SAVEPOINT s")
            cur.execute("UPDATE notifications SET is_read = true")
            cur.execute("ROLLBACK TO SAVEPOINT s")
            db.commit()
        finally:
            db.autocommit = True
    check()
    with db.cursor() as cur:
        cur.execute("SELECT dashboard_compact_counts()")
        cur.execute("DELETE FROM users WHERE username = 'operator2'")  # its notifications go with it
        cur.execute("SELECT dashboard_compact_counts()")
    users = ("operator1", "operator3", "manager")
    check()
    with db.cursor() as cur:
        cur.execute("TRUNCATE notifications")
    check()
    assert checks[-1][0] == {user: 0 for user in users}


def test_the_unread_count_reads_no_notification_rows(db, auth):
    """O(1) whatever a user's history: the count comes from the counters, not from notifications."""
    with db.cursor() as cur:
        cur.execute("EXPLAIN " + queries.count_unread_notifications, {"user_id": auth.user_id("operator1")})
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "notifications" not in plan and "dashboard_count_base" in plan, plan
