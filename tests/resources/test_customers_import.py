"""POST /api/customers/import: one upsert keyed on email, all rows valid or nothing written."""
import pytest


def _import(client, auth, rows, user="manager"):
    return client.post("/api/customers/import", json={"customers": rows}, headers=auth.headers(user))


def _customers(db):
    with db.cursor() as cur:
        cur.execute("SELECT email, name, phone, company, notes FROM customers ORDER BY email")
        return cur.fetchall()


def _audit(db):
    with db.cursor() as cur:
        cur.execute("SELECT user_id, action, entity, entity_id, changes, host(ip) FROM audit_logs ORDER BY id")
        return cur.fetchall()


def _seed(db):
    with db.cursor() as cur:
        cur.execute("INSERT INTO customers (name, email, phone, company) VALUES "
                    "('Old Name', 'old@x.example', '111', 'Old Co'), ('Same', 'same@x.example', '222', NULL)")


def test_import_inserts_updates_and_reports_counts(client, auth, db):
    _seed(db)
    with db.cursor() as cur:
        cur.execute("SELECT updated_at FROM customers WHERE email = 'same@x.example'")
        same_updated_at = cur.fetchone()[0]
    response = _import(client, auth, [
        {"name": "New One", "email": "new1@x.example", "phone": "333"},
        {"name": "New Name", "email": "OLD@x.example", "notes": "vip"},
        {"name": "Same", "email": "same@x.example"},
        {"name": "New Two", "email": "new2@x.example"},
    ])
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"inserted": 2, "updated": 1, "unchanged": 1}
    assert _customers(db) == [
        ("new1@x.example", "New One", "333", None, None),
        ("new2@x.example", "New Two", None, None, None),
        # omitted optional fields keep their stored value
        ("old@x.example", "New Name", "111", "Old Co", "vip"),
        ("same@x.example", "Same", "222", None, None),
    ]
    with db.cursor() as cur:
        cur.execute("SELECT updated_at FROM customers WHERE email = 'same@x.example'")
        assert cur.fetchone()[0] == same_updated_at  # an identical row is not rewritten
    *per_customer, (user_id, action, entity, entity_id, changes, ip) = _audit(db)
    assert (user_id, action, entity, entity_id, ip) == (auth.user_id("manager"), "import", "customers", None,
                                                        "127.0.0.1")
    assert changes == {"inserted": 2, "updated": 1, "unchanged": 1, "rows": 4}
    # Each inserted or changed customer has its own trail (main wrote only the summary above).
    with db.cursor() as cur:
        cur.execute("SELECT email, id FROM customers")
        id_of = dict(cur.fetchall())
    assert sorted(per_customer, key=lambda row: row[3]) == sorted([
        (auth.user_id("manager"), "create", "customers", id_of["new1@x.example"],
         {"name": {"old": None, "new": "New One"}, "email": {"old": None, "new": "new1@x.example"},
          "phone": {"old": None, "new": "333"}}, "127.0.0.1"),
        (auth.user_id("manager"), "update", "customers", id_of["old@x.example"],
         {"name": {"old": "Old Name", "new": "New Name"}, "notes": {"old": None, "new": "vip"}}, "127.0.0.1"),
        (auth.user_id("manager"), "create", "customers", id_of["new2@x.example"],
         {"name": {"old": None, "new": "New Two"}, "email": {"old": None, "new": "new2@x.example"}}, "127.0.0.1"),
    ], key=lambda row: row[3])
    history = client.get(f"/api/audit-logs?entity=customers&entity_id={id_of['old@x.example']}",
                         headers=auth.headers("admin")).get_json()["items"]
    assert [item["action"] for item in history] == ["update"]


def test_invalid_rows_are_reported_by_index_and_nothing_is_written(client, auth, db):
    _seed(db)
    before = _customers(db)
    response = _import(client, auth, [
        {"name": "Fine", "email": "fine@x.example"},
        {"name": "Bad mail", "email": "nope"},
        {"name": "Fine too", "email": "fine2@x.example"},
        {"name": "", "email": "empty@x.example", "phone": "9" * 51},
        {"name": "No mail"},
        {"name": "Extra", "email": "extra@x.example", "vip": True},
        {"name": "Changed", "email": "old@x.example"},
    ])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert fields == {"customers.1.email", "customers.3.name", "customers.3.phone", "customers.4.email",
                      "customers.5.vip"}
    assert _customers(db) == before and _audit(db) == []


def test_duplicate_emails_in_the_payload_are_422(client, auth, db):
    response = _import(client, auth, [
        {"name": "A", "email": "a@x.example"},
        {"name": "B", "email": "b@x.example"},
        {"name": "A again", "email": " A@X.example "},
        {"name": "B again", "email": "b@x.example"},
    ])
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors == [{"field": "customers.2.email", "message": "duplicates customers.0.email"},
                      {"field": "customers.3.email", "message": "duplicates customers.1.email"}]
    assert _customers(db) == [] and _audit(db) == []


@pytest.mark.parametrize("body", [{"customers": []}, {"customers": "x"}, {"rows": []}, {}])
def test_malformed_import_bodies_are_422(client, auth, db, body):
    response = client.post("/api/customers/import", json=body, headers=auth.headers("manager"))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert _customers(db) == []


def test_more_than_10000_rows_is_422(client, auth, db):
    rows = [{"name": f"C{i}", "email": f"c{i}@x.example"} for i in range(10_001)]
    response = _import(client, auth, rows)
    assert response.status_code == 422
    assert [error["field"] for error in response.get_json()["errors"]] == ["customers"]
    assert _customers(db) == []


def test_10000_rows_in_one_request(client, auth, db):
    _seed(db)
    rows = [{"name": f"Customer {i}", "email": f"c{i}@bulk.example", "phone": f"555-{i:05d}"}
            for i in range(9_999)]
    rows.append({"name": "Renamed", "email": "old@x.example"})
    response = _import(client, auth, rows)
    assert response.status_code == 200
    assert response.get_json() == {"inserted": 9_999, "updated": 1, "unchanged": 0}
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers")
        assert cur.fetchone()[0] == 10_001
    assert len(_audit(db)) == 10_001  # one per written customer, and the import's summary


@pytest.mark.parametrize("user", ["viewer", "operator1"])
def test_import_needs_manager(client, auth, db, user):
    response = _import(client, auth, [{"name": "A", "email": "a@x.example"}], user=user)
    assert response.status_code == 403
    assert _customers(db) == []
