"""Audit logs: admin only, read-only, filters, newest first, and what a write leaves behind."""
import pytest


def _log(db, user_id, action, entity, entity_id, minutes_ago):
    with db.cursor() as cur:
        cur.execute("INSERT INTO audit_logs (user_id, action, entity, entity_id, created_at, ip) "
                    "VALUES (%s, %s, %s, %s, now() - make_interval(mins => %s), '10.0.0.9') RETURNING id",
                    (user_id, action, entity, entity_id, minutes_ago))
        return cur.fetchone()[0]


@pytest.fixture
def trail(db, auth):
    admin, manager = auth.user_id("admin"), auth.user_id("manager")
    return {
        "oldest": _log(db, manager, "create", "customers", 1, 30),
        "middle": _log(db, manager, "update", "customers", 1, 20),
        "other": _log(db, admin, "create", "users", 1, 15),
        "newest": _log(db, manager, "create", "customers", 2, 10),
    }


def _ids(client, auth, query=""):
    response = client.get(f"/api/audit-logs?{query}", headers=auth.headers("admin"))
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_newest_first_with_the_acting_user(client, auth, trail):
    response = client.get("/api/audit-logs", headers=auth.headers("admin"))
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [trail[k] for k in ("newest", "other", "middle", "oldest")]
    first = body["items"][0]
    assert (first["username"], first["action"], first["entity"], first["entity_id"], first["ip"]) == (
        "manager", "create", "customers", 2, "10.0.0.9")
    assert body["pagination"]["total"] == 4


@pytest.mark.parametrize("query, expected", [
    ("entity=customers", ["newest", "middle", "oldest"]),
    ("entity=customers&entity_id=1", ["middle", "oldest"]),
    ("entity_id=1", ["other", "middle", "oldest"]),
    ("action=create&entity=customers", ["newest", "oldest"]),
    ("entity=jobs", []),
])
def test_filters(client, auth, trail, query, expected):
    assert _ids(client, auth, query) == [trail[name] for name in expected]


def test_user_filter(client, auth, trail):
    assert _ids(client, auth, f"user_id={auth.user_id('admin')}") == [trail["other"]]


@pytest.mark.parametrize("query, status", [
    ("entity_id=abc", 400), ("user_id=0", 422), ("action=drop", 422), ("entity=" + "x" * 51, 422),
    ("per_page=101", 422), ("colour=red", 400),
])
def test_bad_filters(client, auth, query, status):
    response = client.get(f"/api/audit-logs?{query}", headers=auth.headers("admin"))
    assert response.status_code == status and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("user", ["manager", "operator1", "viewer"])
def test_admin_only(client, auth, trail, user):
    assert client.get("/api/audit-logs", headers=auth.headers(user)).status_code == 403
    assert client.get(f"/api/audit-logs/{trail['newest']}", headers=auth.headers(user)).status_code == 403


def test_read_only(client, auth, db, trail):
    headers = auth.headers("admin")
    assert client.post("/api/audit-logs", json={}, headers=headers).status_code == 405
    for method in (client.patch, client.put, client.delete):
        assert method(f"/api/audit-logs/{trail['newest']}", json={}, headers=headers).status_code == 405
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_logs")
        assert cur.fetchone()[0] == 4


def test_get_one_and_404(client, auth, trail):
    response = client.get(f"/api/audit-logs/{trail['other']}", headers=auth.headers("admin"))
    assert response.status_code == 200 and response.get_json()["username"] == "admin"
    assert client.get("/api/audit-logs/999999", headers=auth.headers("admin")).status_code == 404


def test_a_write_shows_up_with_who_what_fields_and_client_ip(client, auth):
    created = client.post("/api/customers", json={"name": "Acme", "phone": "1"}, headers=auth.headers("manager"),
                          environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert created.status_code == 201
    customer_id = created.get_json()["id"]
    response = client.get(f"/api/audit-logs?entity=customers&entity_id={customer_id}", headers=auth.headers("admin"))
    [entry] = response.get_json()["items"]
    assert (entry["user_id"], entry["username"], entry["action"], entry["ip"]) == (
        auth.user_id("manager"), "manager", "create", "192.0.2.44")
    assert entry["changes"]["phone"] == {"old": None, "new": "1"} and entry["created_at"]
