"""Machines: any role reads, a manager writes; validation writes nothing; every write is audited."""
import pytest

from tests.support.factories import add_customer, create_job
from tests.support.rows import audit_rows, count, process_ids


def create(client, auth, user="manager", **fields):
    body = {"name": "HP Latex 800W", "machine_type": "latex printer", **fields}
    return client.post("/api/machines", json=body, headers=auth.headers(user))


def test_create_get_and_audit(client, auth, db):
    response = create(client, auth, process_id=process_ids(db)["print"], status="active")
    assert response.status_code == 201
    machine = response.get_json()
    assert (machine["name"], machine["status"], machine["is_active"]) == ("HP Latex 800W", "active", True)
    assert response.headers["Location"] == f"/api/machines/{machine['id']}"
    assert client.get(f"/api/machines/{machine['id']}", headers=auth.headers("viewer")).get_json() == machine
    [(user_id, action, entity, entity_id, changes)] = audit_rows(db)
    assert (user_id, action, entity, entity_id) == (auth.user_id("manager"), "create", "machines", machine["id"])
    assert changes["machine_type"] == {"old": None, "new": "latex printer"}


def test_defaults_are_idle_active_and_no_process(client, auth):
    machine = create(client, auth).get_json()
    assert (machine["status"], machine["is_active"], machine["process_id"]) == ("idle", True, None)


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({"status": "broken"}, "status"),
    ({"process_id": 999_999}, "process_id"), ({"process_id": 0}, "process_id"),
    ({"machine_type": None}, "machine_type"),
    ({"is_active": "maybe"}, "is_active"), ({"serial": "42"}, "serial"),
])
def test_create_validation_is_422_and_writes_nothing(client, auth, db, fields, field):
    response = create(client, auth, **fields)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert count(db, "machines") == 0 and count(db, "audit_logs") == 0


def test_duplicate_name_is_409(client, auth, db):
    assert create(client, auth).status_code == 201
    response = create(client, auth)
    assert response.status_code == 409 and count(db, "machines") == 1


@pytest.mark.parametrize("user, status", [("viewer", 403), ("operator1", 403), ("admin", 201)])
def test_only_managers_and_up_write(client, auth, db, user, status):
    assert create(client, auth, user=user).status_code == status


def test_list_filters_and_paginates(client, auth, db):
    processes = process_ids(db)
    create(client, auth, name="B cutter", process_id=processes["cut"], status="active")
    create(client, auth, name="A printer", process_id=processes["print"], status="maintenance")
    create(client, auth, name="C van", is_active=False)
    headers = auth.headers("operator1")

    def names(query):
        return [m["name"] for m in client.get(f"/api/machines?{query}", headers=headers).get_json()["items"]]

    assert names("") == ["A printer", "B cutter", "C van"]
    assert names("status=maintenance") == ["A printer"]
    assert names(f"process_id={processes['cut']}") == ["B cutter"]
    assert names("is_active=false") == ["C van"]
    page = client.get("/api/machines?per_page=2&page=2", headers=headers).get_json()
    assert [m["name"] for m in page["items"]] == ["C van"] and page["pagination"]["total"] == 3
    assert client.get("/api/machines?status=broken", headers=headers).status_code == 422
    assert client.get("/api/machines?per_page=x", headers=headers).status_code == 400


def test_patch_changes_sent_fields_and_audits_them(client, auth, db):
    machine = create(client, auth, process_id=process_ids(db)["print"]).get_json()
    response = client.patch(f"/api/machines/{machine['id']}", json={"status": "offline", "process_id": None},
                            headers=auth.headers("manager"))
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["process_id"], response.get_json()["name"]) == (
        "offline", None, machine["name"])
    assert audit_rows(db)[-1][1:] == ("update", "machines", machine["id"], {
        "status": {"old": "idle", "new": "offline"},
        "process_id": {"old": process_ids(db)["print"], "new": None}})


@pytest.mark.parametrize("body, status", [({"status": None}, 422), ({"name": None}, 422),
                                          ({"process_id": 999_999}, 422), ({"status": "melted"}, 422)])
def test_patch_validation_changes_nothing(client, auth, db, body, status):
    machine = create(client, auth).get_json()
    response = client.patch(f"/api/machines/{machine['id']}", json=body, headers=auth.headers("manager"))
    assert response.status_code == status
    assert client.get(f"/api/machines/{machine['id']}", headers=auth.headers("viewer")).get_json() == machine
    assert count(db, "audit_logs") == 1


def test_patch_to_a_taken_name_is_409(client, auth):
    create(client, auth, name="One")
    two = create(client, auth, name="Two").get_json()
    response = client.patch(f"/api/machines/{two['id']}", json={"name": "One"}, headers=auth.headers("manager"))
    assert response.status_code == 409


def test_delete_detaches_steps_and_audits(client, auth, db):
    machine = create(client, auth).get_json()
    job = create_job(client, auth, add_customer(db),
                     steps=[{"process_id": process_ids(db)["print"], "machine_id": machine["id"]}])
    assert client.delete(f"/api/machines/{machine['id']}", headers=auth.headers("operator1")).status_code == 403
    assert client.delete(f"/api/machines/{machine['id']}", headers=auth.headers("manager")).status_code == 204
    steps = client.get(f"/api/jobs/{job['id']}", headers=auth.headers("viewer")).get_json()["steps"]
    assert steps[0]["machine_id"] is None
    assert audit_rows(db)[-1][1:4] == ("delete", "machines", machine["id"])
    assert client.get(f"/api/machines/{machine['id']}", headers=auth.headers("viewer")).status_code == 404


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_machine_is_404(client, auth, method):
    response = getattr(client, method)("/api/machines/999999", json={"status": "idle"} if method == "patch" else None,
                                       headers=auth.headers("manager"))
    assert response.status_code == 404
