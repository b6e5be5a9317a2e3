"""Users (admin): create with a hashed password, list, read, change, soft delete, self-lockout refusals."""
import pytest

from apps.api.domain.passwords import verify_password
from tests.support.auth import DEMO_PASSWORD, login
from tests.support.passwords import PRODUCTION_METHOD

NEW_USER = {"username": "op.six", "password": "correct horse battery", "role": "operator",
            "full_name": "Operator Six", "email": "Op6@Shop.example"}


def _user_row(db, username):
    with db.cursor() as cur:
        cur.execute("SELECT id, role, is_active, email, password_hash FROM users WHERE username = %s",
                    (username,))
        return cur.fetchone()


def _audit(db):
    with db.cursor() as cur:
        cur.execute("SELECT user_id, action, entity, entity_id, changes, host(ip) FROM audit_logs ORDER BY id")
        return cur.fetchall()


def test_create_user_hashes_the_password_and_never_returns_it(client, auth, db):
    response = client.post("/api/users", json=NEW_USER, headers=auth.headers("admin"))
    assert response.status_code == 201
    user = response.get_json()
    assert not {"password", "password_hash"} & set(user)
    assert (user["username"], user["role"], user["email"], user["is_active"]) == (
        "op.six", "operator", "op6@shop.example", True)
    user_id, _, _, _, password_hash = _user_row(db, "op.six")
    assert password_hash.startswith("scrypt:") and verify_password(password_hash, NEW_USER["password"])
    assert login(client, "op.six", NEW_USER["password"]).status_code == 200
    [(admin_id, action, entity, entity_id, changes, ip)] = _audit(db)[:1]
    assert (admin_id, action, entity, entity_id, ip) == (auth.user_id("admin"), "create", "users", user_id,
                                                         "127.0.0.1")
    assert changes["role"] == {"old": None, "new": "operator"}
    assert "password" not in str(changes) and password_hash not in str(changes)


@pytest.mark.parametrize("override, field", [
    ({"username": "has space"}, "username"), ({"username": ""}, "username"),
    ({"password": "short"}, "password"), ({"password": "x" * 1025}, "password"),
    ({"role": "superuser"}, "role"), ({"email": "nope"}, "email"), ({"password_hash": "x" * 30}, "password_hash"),
    ({"is_active": "perhaps"}, "is_active"), ({"is_active": 0}, "is_active"),
])
def test_create_validation_writes_nothing(client, auth, db, override, field):
    response = client.post("/api/users", json={**NEW_USER, **override}, headers=auth.headers("admin"))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert _user_row(db, NEW_USER["username"]) is None and _audit(db) == []


def test_duplicate_username_is_409(client, auth, db):
    response = client.post("/api/users", json={**NEW_USER, "username": "operator1"}, headers=auth.headers("admin"))
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert _audit(db) == []


@pytest.mark.parametrize("user", ["manager", "operator1", "viewer"])
def test_only_admins_manage_users(client, auth, db, user):
    headers = auth.headers(user)
    assert client.get("/api/users", headers=headers).status_code == (200 if user == "manager" else 403)
    assert client.post("/api/users", json=NEW_USER, headers=headers).status_code == 403
    assert client.patch(f"/api/users/{auth.user_id('viewer')}", json={"role": "admin"},
                        headers=headers).status_code == 403
    assert _user_row(db, "viewer")[1] == "viewer" and _user_row(db, "op.six") is None


def test_list_filters_and_hides_hashes(client, auth):
    response = client.get("/api/users?role=operator&per_page=3", headers=auth.headers("admin"))
    assert response.status_code == 200
    body = response.get_json()
    assert [user["username"] for user in body["items"]] == ["operator1", "operator2", "operator3"]
    assert body["pagination"]["total"] == 5 and body["pagination"]["has_next"]
    assert all("password_hash" not in user for user in body["items"])
    inactive = client.get("/api/users?is_active=false", headers=auth.headers("admin")).get_json()
    assert inactive["items"] == []


@pytest.mark.parametrize("query, status", [("role=root", 422), ("is_active=maybe", 400), ("per_page=500", 422)])
def test_bad_list_queries(client, auth, query, status):
    assert client.get(f"/api/users?{query}", headers=auth.headers("admin")).status_code == status


def test_get_user_and_404(client, auth):
    response = client.get(f"/api/users/{auth.user_id('viewer')}", headers=auth.headers("admin"))
    assert response.status_code == 200 and response.get_json()["username"] == "viewer"
    assert "password_hash" not in response.get_json()
    assert client.get("/api/users/999999", headers=auth.headers("admin")).status_code == 404


def test_patch_role_audits_and_stops_old_tokens(client, auth, db):
    viewer_id = auth.user_id("viewer")
    old_headers = auth.headers("viewer")
    response = client.patch(f"/api/users/{viewer_id}", json={"role": "operator", "full_name": "Promoted"},
                            headers=auth.headers("admin"))
    assert response.status_code == 200
    assert response.get_json()["role"] == "operator" and response.get_json()["full_name"] == "Promoted"
    [(_, action, _, entity_id, changes, _)] = _audit(db)
    assert (action, entity_id) == ("update", viewer_id)
    assert changes["role"] == {"old": "viewer", "new": "operator"}
    assert client.get("/api/auth/me", headers=old_headers).status_code == 401


def test_patch_password_rehashes_and_audits_without_the_hash(client, auth, db):
    operator_id = auth.user_id("operator1")
    response = client.patch(f"/api/users/{operator_id}", json={"password": "a brand new password"},
                            headers=auth.headers("admin"))
    assert response.status_code == 200
    assert login(client, "operator1", DEMO_PASSWORD).status_code == 401
    assert login(client, "operator1", "a brand new password").status_code == 200
    [(_, action, _, _, changes, _)] = _audit(db)[:1]
    assert action == "update" and changes == {"password": "changed"}


@pytest.mark.parametrize("body", [{"role": "manager"}, {"is_active": False}])
def test_admin_cannot_demote_or_deactivate_themselves(client, auth, db, body):
    admin_id = auth.user_id("admin")
    response = client.patch(f"/api/users/{admin_id}", json=body, headers=auth.headers("admin"))
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert _user_row(db, "admin")[1:3] == ("admin", True) and _audit(db) == []


def test_admin_cannot_delete_themselves(client, auth, db):
    response = client.delete(f"/api/users/{auth.user_id('admin')}", headers=auth.headers("admin"))
    assert response.status_code == 409
    assert _user_row(db, "admin")[2] is True and _audit(db) == []


def test_admin_may_edit_their_own_name(client, auth):
    response = client.patch(f"/api/users/{auth.user_id('admin')}", json={"full_name": "The Admin", "role": "admin"},
                            headers=auth.headers("admin"))
    assert response.status_code == 200 and response.get_json()["full_name"] == "The Admin"


@pytest.mark.parametrize("body", [{"role": None}, {"is_active": None}, {"full_name": None}, {"username": "x"},
                                  {"password": "short"}])
def test_bad_patch_changes_nothing(client, auth, db, body):
    response = client.patch(f"/api/users/{auth.user_id('viewer')}", json=body, headers=auth.headers("admin"))
    assert response.status_code == 422
    assert _audit(db) == []


def test_delete_removes_the_user_from_the_api_and_keeps_the_row(client, auth, db):
    operator_id = auth.user_id("operator2")
    old_headers = auth.headers("operator2")
    assert client.get("/api/auth/me", headers=old_headers).status_code == 200  # its state is now cached
    response = client.delete(f"/api/users/{operator_id}", headers=auth.headers("admin"))
    assert response.status_code == 204
    assert _user_row(db, "operator2")[2] is False
    [(admin_id, action, _, entity_id, changes, _)] = _audit(db)
    assert (admin_id, action, entity_id) == (auth.user_id("admin"), "delete", operator_id)
    assert changes == {"is_active": {"old": True, "new": False}}
    assert login(client, "operator2", DEMO_PASSWORD).status_code == 401
    assert client.get("/api/auth/me", headers=old_headers).status_code == 401
    # Gone from the API: every operation on it is 404 and writes nothing; the row and its name stay.
    admin = auth.headers("admin")
    assert client.get(f"/api/users/{operator_id}", headers=admin).status_code == 404
    assert client.delete(f"/api/users/{operator_id}", headers=admin).status_code == 404
    assert client.patch(f"/api/users/{operator_id}", json={"is_active": True}, headers=admin).status_code == 404
    assert "operator2" not in {user["username"] for user in client.get("/api/users", headers=admin).get_json()["items"]}
    assert len(_audit(db)) == 1 and _user_row(db, "operator2") is not None


def test_delete_unknown_is_404(client, auth):
    assert client.delete("/api/users/999999", headers=auth.headers("admin")).status_code == 404


def test_password_change_ends_existing_tokens(client, auth):
    old = {"Authorization": f"Bearer {login(client, 'operator3', 'demo').get_json()['access_token']}"}
    assert client.get("/api/auth/me", headers=old).status_code == 200
    user_id = auth.user_id("operator3")
    response = client.patch(f"/api/users/{user_id}", json={"password": "a brand new password"},
                            headers=auth.headers("admin"))
    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=old).status_code == 401  # this worker ended it: at once
    fresh = login(client, "operator3", "a brand new password").get_json()["access_token"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_managers_list_and_read_users_in_a_reduced_shape(client, auth):
    summary = {"id", "username", "full_name", "role", "is_active"}
    listed = client.get("/api/users?role=operator", headers=auth.headers("manager"))
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert len(items) == 5 and all(set(item) == summary for item in items)
    path = f"/api/users/{auth.user_id('operator1')}"
    reduced = client.get(path, headers=auth.headers("manager"))
    full = client.get(path, headers=auth.headers("admin"))
    assert set(reduced.get_json()) == summary and {"email", "created_at", "updated_at"} <= set(full.get_json())
    assert reduced.headers["ETag"] != full.headers["ETag"]  # two representations, two tags
    for write in (client.patch(path, json={"full_name": "X"}, headers=auth.headers("manager")),
                  client.delete(path, headers=auth.headers("manager")),
                  client.post("/api/users", json=NEW_USER, headers=auth.headers("manager"))):
        assert write.status_code == 403


def test_production_hashes_with_scrypt_at_32_mib():
    """The tests hash cheaper (tests/support/passwords.py); what ships is scrypt N=2^15, r=8 (32 MiB)."""
    assert PRODUCTION_METHOD == "scrypt:32768:8:1"
