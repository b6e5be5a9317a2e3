"""Customers: CRUD, search, validation with nothing written, and the audit record of each write."""
import pytest
from psycopg2 import sql

from apps.api.resources.customers import BY_NAME, queries
from apps.api.web.listing import like_pattern


def _create(client, auth, **fields):
    body = {"name": "Acme Signs", **fields}
    return client.post("/api/customers", json=body, headers=auth.headers("manager"))


def _count(db, table="customers"):
    with db.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def _audit_rows(db):
    with db.cursor() as cur:
        cur.execute("SELECT user_id, action, entity, entity_id, changes, host(ip) FROM audit_logs ORDER BY id")
        return cur.fetchall()


def _insert(db, name, email=None, phone=None):
    with db.cursor() as cur:
        cur.execute("INSERT INTO customers (name, email, phone) VALUES (%s, %s, %s) RETURNING id",
                    (name, email, phone))
        return cur.fetchone()[0]


def test_create_returns_201_with_the_customer_and_audits(client, auth, db):
    response = _create(client, auth, email="  Orders@Acme.Example ", phone="555-0100")
    assert response.status_code == 201
    customer = response.get_json()
    assert customer["name"] == "Acme Signs" and customer["email"] == "orders@acme.example"
    assert customer["phone"] == "555-0100" and customer["company"] is None
    assert {"id", "created_at", "updated_at", "notes"} <= set(customer)
    assert response.headers["Location"] == f"/api/customers/{customer['id']}"
    [(user_id, action, entity, entity_id, changes, ip)] = _audit_rows(db)
    assert (user_id, action, entity, entity_id, ip) == (
        auth.user_id("manager"), "create", "customers", customer["id"], "127.0.0.1")
    assert changes["name"] == {"old": None, "new": "Acme Signs"}
    assert "company" not in changes  # only the fields that got a value


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "A", "email": "not-an-email"}, "email"),
    ({"name": "A", "phone": "1" * 51}, "phone"),
    ({"name": "A\x00B"}, "name"),
    ({"name": 5}, "name"),
    ({"name": "A", "colour": "red"}, "colour"),
])
def test_create_validation_is_422_and_writes_nothing(client, auth, db, body, field):
    response = client.post("/api/customers", json=body, headers=auth.headers("manager"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert _count(db) == 0 and _count(db, "audit_logs") == 0


def test_malformed_body_is_400(client, auth, db):
    response = client.post("/api/customers", data="{nope", content_type="application/json",
                           headers=auth.headers("manager"))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert _count(db) == 0


def test_duplicate_email_is_409_and_writes_nothing_more(client, auth, db):
    assert _create(client, auth, email="a@b.example").status_code == 201
    response = _create(client, auth, name="Other", email="A@B.example")
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert _count(db) == 1 and _count(db, "audit_logs") == 1


def test_viewer_reads_but_cannot_write(client, auth, db):
    customer_id = _insert(db, "Acme")
    assert client.get(f"/api/customers/{customer_id}", headers=auth.headers("viewer")).status_code == 200
    assert client.post("/api/customers", json={"name": "X"}, headers=auth.headers("operator1")).status_code == 403
    assert client.delete(f"/api/customers/{customer_id}", headers=auth.headers("viewer")).status_code == 403
    assert _count(db) == 1


def test_list_is_paginated_by_name(client, auth, db):
    for name in ["Cedar", "Apple", "Birch", "Daisy", "Elm"]:
        _insert(db, name)
    response = client.get("/api/customers?per_page=2&page=2", headers=auth.headers("viewer"))
    assert response.status_code == 200
    body = response.get_json()
    assert [item["name"] for item in body["items"]] == ["Cedar", "Daisy"]
    assert body["pagination"].pop("next_cursor")
    assert body["pagination"] == {"page": 2, "per_page": 2, "total": 5, "pages": 3,
                                  "has_next": True, "has_prev": True, "total_is_estimate": False}


@pytest.mark.parametrize("query, status", [
    ("per_page=101", 422), ("per_page=0", 422), ("page=0", 422), ("page=abc", 400),
    ("per_page=1.5", 400), ("sort=name", 400), ("q=" + "x" * 201, 422),
])
def test_bad_list_queries(client, auth, query, status):
    response = client.get(f"/api/customers?{query}", headers=auth.headers("viewer"))
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_search_matches_name_email_phone_case_insensitively(client, auth, db):
    by_name = _insert(db, "Northwind Printing")
    by_email = _insert(db, "Someone", email="buyer@northwind.example")
    by_phone = _insert(db, "Phone Only", phone="+1 555 0199")
    _insert(db, "Unrelated", email="x@y.example", phone="123")

    def ids(q):
        response = client.get("/api/customers", query_string={"q": q}, headers=auth.headers("viewer"))
        assert response.status_code == 200
        return {item["id"] for item in response.get_json()["items"]}

    assert ids("NORTHWIND") == {by_name, by_email}
    assert ids("555 01") == {by_phone}
    assert ids("") == ids("  ") and len(ids("")) == 4


def test_search_treats_percent_and_underscore_literally(client, auth, db):
    percent = _insert(db, "100% Signs")
    _insert(db, "1000 Signs")
    underscore = _insert(db, "a_b Print")
    _insert(db, "axb Print")
    backslash = _insert(db, r"back\slash")

    def ids(q):
        response = client.get("/api/customers", query_string={"q": q}, headers=auth.headers("viewer"))
        return {item["id"] for item in response.get_json()["items"]}

    assert ids("100%") == {percent}
    assert ids("a_b Print") == {underscore}
    assert ids("k\\sla") == {backslash}


@pytest.mark.parametrize("term", ["a", "oa", "0%", "a_b", "a b c", "%%%%"])
def test_search_terms_the_trigram_index_cannot_serve_are_422(client, auth, term):
    response = client.get("/api/customers", query_string={"q": term}, headers=auth.headers("viewer"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "q"
    assert "three letters or digits" in response.get_json()["errors"][0]["message"]


def test_search_can_use_the_trigram_indexes(db):
    with db.cursor() as cur:
        cur.execute("SET enable_seqscan = off")  # and off an index walked in name order, filtering as it goes
        cur.execute("SET enable_indexscan = off")
        cur.execute(sql.SQL("EXPLAIN ") + sql.SQL(queries.list_customers).format(**BY_NAME.parts(False)),
                    {"pattern": like_pattern("acme"), "limit": 20, "offset": 0})
        plan = "\n".join(row[0] for row in cur.fetchall())
    for index in ("idx_customers_name_trgm", "idx_customers_email_trgm", "idx_customers_phone_trgm"):
        assert index in plan


def test_get_unknown_is_404(client, auth):
    response = client.get("/api/customers/999999", headers=auth.headers("viewer"))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_patch_changes_fields_and_audits_only_the_changed_ones(client, auth, db):
    customer_id = _create(client, auth, email="a@b.example", phone="1").get_json()["id"]
    response = client.patch(f"/api/customers/{customer_id}", json={"name": "Acme Signs", "phone": None,
                                                                    "company": "Acme Ltd"},
                            headers=auth.headers("manager"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["phone"] is None and body["company"] == "Acme Ltd" and body["email"] == "a@b.example"
    (*_, (user_id, action, _, entity_id, changes, ip)) = _audit_rows(db)
    assert (action, entity_id, user_id, ip) == ("update", customer_id, auth.user_id("manager"), "127.0.0.1")
    assert changes == {"phone": {"old": "1", "new": None}, "company": {"old": None, "new": "Acme Ltd"}}


def test_patch_without_changes_writes_nothing(client, auth, db):
    customer_id = _insert(db, "Acme")
    for body in ({}, {"name": "Acme"}):
        response = client.patch(f"/api/customers/{customer_id}", json=body, headers=auth.headers("manager"))
        assert response.status_code == 200 and response.get_json()["name"] == "Acme"
    assert _count(db, "audit_logs") == 0


@pytest.mark.parametrize("body, status", [
    ({"name": None}, 422), ({"name": ""}, 422), ({"email": "nope"}, 422), ({"id": 5}, 422),
    ({"email": "taken@b.example"}, 409),
])
def test_bad_patch_changes_nothing(client, auth, db, body, status):
    _insert(db, "Taken", email="taken@b.example")
    customer_id = _insert(db, "Acme", email="mine@b.example")
    response = client.patch(f"/api/customers/{customer_id}", json=body, headers=auth.headers("manager"))
    assert response.status_code == status and response.mimetype == "application/problem+json"
    with db.cursor() as cur:
        cur.execute("SELECT name, email FROM customers WHERE id = %s", (customer_id,))
        assert cur.fetchone() == ("Acme", "mine@b.example")
    assert _count(db, "audit_logs") == 0


def test_patch_unknown_is_404(client, auth):
    response = client.patch("/api/customers/999999", json={"name": "X"}, headers=auth.headers("manager"))
    assert response.status_code == 404


def test_delete_is_204_and_audited(client, auth, db):
    customer_id = _insert(db, "Acme", email="a@b.example")
    response = client.delete(f"/api/customers/{customer_id}", headers=auth.headers("manager"))
    assert response.status_code == 204 and response.get_data() == b""
    assert _count(db) == 0
    [(user_id, action, entity, entity_id, changes, _)] = _audit_rows(db)
    assert (user_id, action, entity, entity_id) == (auth.user_id("manager"), "delete", "customers", customer_id)
    assert changes["email"] == {"old": "a@b.example", "new": None}
    assert client.delete(f"/api/customers/{customer_id}", headers=auth.headers("manager")).status_code == 404


def test_delete_with_jobs_is_409_and_keeps_the_customer(client, auth, db):
    customer_id = _insert(db, "Acme")
    with db.cursor() as cur:
        cur.execute("INSERT INTO jobs (customer_id, title) VALUES (%s, 'Banner')", (customer_id,))
    response = client.delete(f"/api/customers/{customer_id}", headers=auth.headers("manager"))
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert _count(db) == 1 and _count(db, "audit_logs") == 0
