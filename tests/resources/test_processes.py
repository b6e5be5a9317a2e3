"""Processes and role permissions: any role reads, an admin writes; every write is audited."""
import pytest

from tests.support.factories import add_customer, create_job
from tests.support.rows import audit_rows, count, process_ids

SEEDED = ["design", "prepress", "print", "laminate", "cut", "assemble", "install"]


def test_list_is_in_production_order(client, auth):
    body = client.get("/api/processes", headers=auth.headers("viewer")).get_json()
    assert [p["code"] for p in body["items"]] == SEEDED and body["pagination"]["total"] == 7
    page = client.get("/api/processes?per_page=3&page=3", headers=auth.headers("viewer")).get_json()
    assert [p["code"] for p in page["items"]] == ["install"]


def test_create_get_and_audit(client, auth, db):
    response = client.post("/api/processes", json={"code": "weld", "name": "Weld", "default_order": 8},
                           headers=auth.headers("admin"))
    assert response.status_code == 201
    process = response.get_json()
    assert client.get(response.headers["Location"], headers=auth.headers("operator1")).get_json() == process
    assert audit_rows(db)[-1][:4] == (auth.user_id("admin"), "create", "processes", process["id"])
    active = client.get("/api/processes?is_active=true", headers=auth.headers("viewer")).get_json()
    assert active["pagination"]["total"] == 8


@pytest.mark.parametrize("body, field", [
    ({"code": "Weld", "name": "Weld", "default_order": 8}, "code"),
    ({"code": "weld", "name": " ", "default_order": 8}, "name"),
    ({"code": "weld", "name": "Weld", "default_order": 0}, "default_order"),
    ({"code": "weld", "name": "Weld", "default_order": 2**31}, "default_order"),
    ({"code": "weld", "name": "Weld"}, "default_order"),
    ({"code": "weld", "name": "Weld", "default_order": 8, "x": 1}, "x"),
])
def test_create_validation_is_422_and_writes_nothing(client, auth, db, body, field):
    response = client.post("/api/processes", json=body, headers=auth.headers("admin"))
    assert response.status_code == 422
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert count(db, "processes") == 7 and count(db, "audit_logs") == 0


def test_duplicate_code_is_409(client, auth, db):
    response = client.post("/api/processes", json={"code": "print", "name": "Print 2", "default_order": 9},
                           headers=auth.headers("admin"))
    assert response.status_code == 409 and count(db, "processes") == 7


@pytest.mark.parametrize("user", ["manager", "operator1", "viewer"])
def test_only_admins_write_processes(client, auth, db, user):
    headers = auth.headers(user)
    pid = process_ids(db)["print"]
    assert client.post("/api/processes", json={"code": "weld", "name": "Weld", "default_order": 8},
                       headers=headers).status_code == 403
    assert client.patch(f"/api/processes/{pid}", json={"name": "P"}, headers=headers).status_code == 403
    assert client.delete(f"/api/processes/{pid}", headers=headers).status_code == 403
    assert client.put("/api/roles/viewer/permissions", json={"process_ids": [pid]},
                      headers=headers).status_code == 403
    assert count(db, "audit_logs") == 0


def test_patch_and_audit(client, auth, db):
    pid = process_ids(db)["laminate"]
    response = client.patch(f"/api/processes/{pid}", json={"name": "Laminate (gloss)", "is_active": False},
                            headers=auth.headers("admin"))
    assert response.status_code == 200
    assert (response.get_json()["name"], response.get_json()["is_active"]) == ("Laminate (gloss)", False)
    assert audit_rows(db)[-1][1:] == ("update", "processes", pid, {
        "name": {"old": "Laminate", "new": "Laminate (gloss)"}, "is_active": {"old": True, "new": False}})
    assert client.patch(f"/api/processes/{pid}", json={"code": "print"},
                        headers=auth.headers("admin")).status_code == 409
    assert client.patch(f"/api/processes/{pid}", json={"code": None},
                        headers=auth.headers("admin")).status_code == 422


def test_delete_unused_process_but_not_a_used_one(client, auth, db):
    processes = process_ids(db)
    create_job(client, auth, add_customer(db), steps=[{"process_id": processes["print"]}])
    headers = auth.headers("admin")
    response = client.delete(f"/api/processes/{processes['print']}", headers=headers)
    assert response.status_code == 409 and "is_active" in response.get_json()["detail"]
    assert client.delete(f"/api/processes/{processes['install']}", headers=headers).status_code == 204
    assert count(db, "processes") == 6
    assert audit_rows(db)[-1][1:4] == ("delete", "processes", processes["install"])
    assert client.get(f"/api/processes/{processes['install']}", headers=headers).status_code == 404


def test_permissions_of_each_role(client, auth, db):
    for role, expected in [("operator", 7), ("manager", 7), ("admin", 7), ("viewer", 0)]:
        body = client.get(f"/api/roles/{role}/permissions", headers=auth.headers("viewer")).get_json()
        assert body["role"] == role and len(body["process_ids"]) == expected
        assert [p["code"] for p in body["permissions"]] == SEEDED
    assert client.get("/api/roles/owner/permissions", headers=auth.headers("viewer")).status_code == 404


def test_replace_permissions_and_audit(client, auth, db):
    processes = process_ids(db)
    wanted = [processes["print"], processes["cut"], processes["print"]]
    response = client.put("/api/roles/viewer/permissions", json={"process_ids": wanted},
                          headers=auth.headers("admin"))
    assert response.status_code == 200
    assert response.get_json()["process_ids"] == [processes["print"], processes["cut"]]
    with db.cursor() as cur:
        cur.execute("SELECT process_id FROM role_process_permissions WHERE role = 'viewer' ORDER BY process_id")
        assert [row[0] for row in cur.fetchall()] == sorted({processes["print"], processes["cut"]})
    [(_, action, entity, _, changes)] = audit_rows(db)
    assert (action, entity, changes["role"]) == ("update", "role_permissions", "viewer")
    assert changes["process_ids"] == {"old": [], "new": [processes["print"], processes["cut"]]}
    empty = client.put("/api/roles/viewer/permissions", json={"process_ids": []}, headers=auth.headers("admin"))
    assert empty.get_json()["process_ids"] == [] and len(audit_rows(db)) == 2


@pytest.mark.parametrize("body, status", [({"process_ids": [1, 999_999]}, 422), ({"process_ids": "all"}, 422),
                                          ({}, 422), ({"process_ids": [0]}, 422), ([1, 2], 400)])
def test_bad_permission_bodies_change_nothing(client, auth, db, body, status):
    response = client.put("/api/roles/operator/permissions", json=body, headers=auth.headers("admin"))
    assert response.status_code == status
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM role_process_permissions WHERE role = 'operator'")
        assert cur.fetchone()[0] == 7
    assert count(db, "audit_logs") == 0
