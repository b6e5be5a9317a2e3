"""Account changes that hand out or take away access need a fresh login, not a refreshed token (issue 20)."""
import pytest

from tests.support.checks import changed_tables, fingerprint

ALWAYS_FRESH = [("DELETE", "/api/users/{id}", None), ("DELETE", "/api/users/{id}/sessions", None)]
FRESH_PATCHES = [{"is_active": False}, {"email": "someone.else@shop.example"}, {"role": "manager"},
                 {"password": "a brand new password"}]


def _target(auth, db, active=True):
    user_id = auth.user_id("operator2")
    with db.cursor() as cur:
        cur.execute("UPDATE users SET is_active = %s WHERE id = %s", (active, user_id))
    return user_id


@pytest.mark.parametrize("change", FRESH_PATCHES + [{"is_active": True}], ids=str)
def test_a_refreshed_admin_token_changes_no_access(client, auth, db, change):
    # Reactivation included: a dormant account whose password one knows is a way to a fresh admin token.
    user_id = _target(auth, db, active=change != {"is_active": True})
    stale = auth.headers("admin", fresh=False)
    before = fingerprint(db)
    answer = client.patch(f"/api/users/{user_id}", json=change, headers=stale)
    assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
    assert "fresh login" in answer.get_json()["detail"]
    assert changed_tables(before, fingerprint(db)) == []
    assert client.patch(f"/api/users/{user_id}", json=change, headers=auth.headers("admin")).status_code == 200


@pytest.mark.parametrize("method, path, body", ALWAYS_FRESH)
def test_deleting_a_user_or_ending_their_sessions_needs_a_fresh_login(client, auth, db, method, path, body):
    user_id = _target(auth, db)
    auth.start_session("operator2")
    url = path.format(id=user_id)
    before = fingerprint(db)
    answer = client.open(url, method=method, json=body, headers=auth.headers("admin", fresh=False))
    assert answer.status_code == 401 and "fresh login" in answer.get_json()["detail"]
    assert changed_tables(before, fingerprint(db)) == []
    assert client.open(url, method=method, json=body, headers=auth.headers("admin")).status_code == 204


def test_a_name_change_needs_no_fresh_login(client, auth, db):
    user_id = _target(auth, db)
    answer = client.patch(f"/api/users/{user_id}", json={"full_name": "Operator Two B"},
                          headers=auth.headers("admin", fresh=False))
    assert answer.status_code == 200 and answer.get_json()["full_name"] == "Operator Two B"


def test_the_document_names_what_needs_a_fresh_login(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert paths["/api/users/{user_id}"]["delete"]["x-needs-fresh-login"] is True
    assert paths["/api/users/{user_id}/sessions"]["delete"]["x-needs-fresh-login"] is True
    patch = paths["/api/users/{user_id}"]["patch"]
    assert "x-needs-fresh-login" not in patch
    assert set(patch["x-needs-fresh-login-fields"]) == {"email", "is_active", "password", "role"}
