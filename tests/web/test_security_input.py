"""Hostile input by hand: every case answers its exact 4xx as problem+json, never a 500, and changes no row.

Raw bytes go on the wire as written (lone surrogates and invalid UTF-8 cannot be made with json=). The rows
of every table are fingerprinted before and after each request; only the login rate-limit counters may move.
Input that is hostile but valid (SQL metacharacters, unusual Unicode) must be stored and answered verbatim.
"""
import json
import re

import pytest

from tests.support.checks import changed_tables, fingerprint
from tests.support.world import module_world

SQL_METACHARACTERS = "Robert'); DROP TABLE customers;-- \" \\ % _ ; /* */ $$ $1 %(name)s {0}"
DEEP = 100_000


def raw(text):
    return text.encode() if isinstance(text, str) else text


def obj(value):
    return json.dumps(value).encode()


# (id, user, method, path, body bytes or None, expected status). {customer}, {job}, {step}, {user} are real ids.
CASES = [
    # Malformed JSON and the wrong kind of document
    ("truncated json", "manager", "POST", "/api/customers", raw('{"name": '), 400),
    ("single quotes", "manager", "POST", "/api/customers", raw("{'name': 'x'}"), 400),
    ("trailing garbage", "manager", "POST", "/api/customers", raw('{"name": "x"} tail'), 400),
    ("empty body", "manager", "POST", "/api/customers", b"", 400),
    ("array body", "manager", "POST", "/api/jobs", raw("[]"), 400),
    ("string body", "manager", "POST", "/api/jobs", raw('"job"'), 400),
    ("null body", "manager", "PATCH", "/api/customers/{customer}", raw("null"), 400),
    ("number body", "admin", "POST", "/api/users", raw("42"), 400),
    ("invalid utf-8", "manager", "POST", "/api/customers", b'{"name": "\xff\xfe"}', 400),
    ("overlong utf-8 slash", "manager", "POST", "/api/customers", b'{"name": "\xc0\xaf"}', 400),
    # Wrong types
    ("name is a number", "manager", "POST", "/api/customers", obj({"name": 5}), 422),
    ("name is a list", "manager", "POST", "/api/customers", obj({"name": ["x"]}), 422),
    ("name is an object", "manager", "POST", "/api/customers", obj({"name": {"$gt": ""}}), 422),
    ("name is null", "manager", "PATCH", "/api/customers/{customer}", obj({"name": None}), 422),
    ("id is a string", "manager", "POST", "/api/jobs", obj({"customer_id": "1 OR 1=1", "title": "x"}), 422),
    ("id is a float", "manager", "POST", "/api/jobs", obj({"customer_id": 1.5, "title": "x"}), 422),
    ("id is negative", "manager", "POST", "/api/jobs", obj({"customer_id": -1, "title": "x"}), 422),
    ("id past bigint", "manager", "POST", "/api/jobs", obj({"customer_id": 2**63, "title": "x"}), 422),
    ("id is infinite", "manager", "POST", "/api/jobs", raw('{"customer_id": 1e400, "title": "x"}'), 422),
    ("id is NaN", "manager", "POST", "/api/jobs", raw('{"customer_id": NaN, "title": "x"}'), 422),
    ("flag is a string", "admin", "PATCH", "/api/users/{user}", obj({"is_active": "false"}), 422),
    ("flag is 0", "manager", "POST", "/api/machines", obj({"name": "m", "machine_type": "t", "is_active": 0}), 422),
    ("steps not a list", "manager", "POST", "/api/jobs", obj({"customer_id": 1, "title": "x", "steps": {}}), 422),
    ("duplicate keys, last one bad", "manager", "POST", "/api/customers", raw('{"name": "ok", "name": 5}'), 422),
    ("unknown field", "manager", "POST", "/api/customers", obj({"name": "x", "is_admin": True}), 422),
    ("date not a date", "manager", "PATCH", "/api/jobs/{job}", obj({"due_date": "2026-02-30"}), 422),
    # Strict: no coercion between JSON types, nor of query-string values written another way
    ("date is a number", "manager", "PATCH", "/api/jobs/{job}", obj({"due_date": 0}), 422),
    ("date is a number, create", "manager", "POST", "/api/jobs", obj({"customer_id": 1, "title": "x", "due_date": 0}),
     422),
    ("date is a timestamp", "manager", "PATCH", "/api/jobs/{job}", obj({"due_date": "2026-02-01T00:00:00"}), 422),
    ("id is a whole float", "manager", "POST", "/api/jobs", obj({"customer_id": 61.0, "title": "x"}), 422),
    ("id is a numeric string", "manager", "POST", "/api/jobs", obj({"customer_id": "61", "title": "x"}), 422),
    ("id is true", "manager", "PATCH", "/api/steps/{step}", obj({"machine_id": True}), 422),
    ("order is a string", "admin", "POST", "/api/processes", obj({"code": "x", "name": "X", "default_order": "2"}),
     422),
    ("query id is a float", "viewer", "GET", "/api/jobs?customer_id=61.0", None, 400),
    ("query id with a plus", "viewer", "GET", "/api/jobs?customer_id=+61", None, 400),
    ("query flag is yes", "viewer", "GET", "/api/jobs?overdue=yes", None, 400),
    ("query page is 1e2", "viewer", "GET", "/api/me/steps?page=1e2", None, 400),
    # Huge
    ("body over 16 MiB", "manager", "POST", "/api/customers", b'{"name": "' + b"x" * (16 * 1024 * 1024) + b'"}', 413),
    ("10 MB name", "manager", "POST", "/api/customers", obj({"name": "x" * 10_000_000}), 422),
    ("10,001 import rows", "manager", "POST", "/api/customers/import",
     obj({"customers": [{"name": "n", "email": f"e{i}@example.com"} for i in range(10_001)]}), 422),
    ("100,000 steps", "manager", "POST", "/api/jobs",
     obj({"customer_id": 1, "title": "x", "steps": [{"process_id": 1}] * 100_000}), 422),
    ("long search", "viewer", "GET", "/api/customers?q=" + "a" * 10_000, None, 422),
    # Deep nesting
    ("nested arrays", "manager", "POST", "/api/customers", b"[" * DEEP + b"]" * DEEP, 400),
    ("nested in a field", "manager", "POST", "/api/customers", b'{"name": ' + b"[" * DEEP + b"]" * DEEP + b"}", 400),
    # 600 KB: over the small limit of routes without a token, refused before it is parsed (issue 20).
    ("nested objects at login", None, "POST", "/api/auth/login", b'{"a":' * DEEP + b"1" + b"}" * DEEP, 413),
    ("nested objects at a small login", None, "POST", "/api/auth/login", b'{"a":' * 400 + b"1" + b"}" * 400, 422),
    ("moderately nested", "manager", "POST", "/api/customers", obj({"name": json.loads("[" * 500 + "]" * 500)}), 422),
    # NUL bytes
    ("NUL in a name", "manager", "POST", "/api/customers", obj({"name": "a\u0000b"}), 422),
    ("NUL in a search", "viewer", "GET", "/api/customers?q=a%00b", None, 422),
    ("NUL in a login name", None, "POST", "/api/auth/login", obj({"username": "admin\u0000", "password": "x"}), 422),
    ("NUL in a path id", "viewer", "GET", "/api/customers/1%00", None, 404),
    ("path id past bigint", "viewer", "GET", "/api/customers/99999999999999999999", None, 404),
    ("path id past bigint, write", "manager", "PATCH", "/api/jobs/99999999999999999999", obj({"title": "x"}), 404),
    ("path id past bigint, step", "operator1", "PATCH", "/api/steps/9223372036854775808",
     obj({"status": "completed"}), 404),
    ("path id past bigint, read", "viewer", "POST", "/api/notifications/99999999999999999999/read", None, 404),
    # SQL metacharacters where they cannot be valid
    ("SQL in a path id", "viewer", "GET", "/api/customers/1%20OR%201=1", None, 404),
    ("SQL in an id filter", "viewer", "GET", "/api/jobs?customer_id=1;DROP%20TABLE%20jobs", None, 400),
    ("SQL in a sort", "viewer", "GET", "/api/jobs?sort=created_at;DROP%20TABLE%20jobs", None, 422),
    ("SQL in an order", "viewer", "GET", "/api/jobs?order=asc,(SELECT%201)", None, 422),
    ("SQL in a role", "viewer", "GET", "/api/roles/admin'--/permissions", None, 404),
    ("SQL in an email", "manager", "POST", "/api/customers", obj({"name": "x", "email": "' OR 1=1 --"}), 422),
    # Unicode edge cases
    ("lone surrogate escaped", "manager", "POST", "/api/customers", raw('{"name": "a\\ud800b"}'), 422),
    ("lone surrogate raw", "manager", "POST", "/api/customers", b'{"name": "a\xed\xa0\x80b"}', 422),
    ("lone low surrogate", "manager", "PATCH", "/api/customers/{customer}", raw('{"notes": "\\udfff"}'), 422),
    ("lone surrogate at login", None, "POST", "/api/auth/login", raw('{"username": "\\ud800", "password": "x"}'), 422),
    ("surrogate in a search", "viewer", "GET", "/api/customers?q=%ED%A0%80%00", None, 422),
    ("201 emoji for 200", "manager", "POST", "/api/customers", obj({"name": "\U0001F600" * 201}), 422),
    ("only whitespace", "manager", "POST", "/api/customers", obj({"name": " \t\n\u3000 "}), 422),
    # Pagination
    ("page 0", "viewer", "GET", "/api/customers?page=0", None, 422),
    ("negative page", "viewer", "GET", "/api/customers?page=-1", None, 422),
    ("huge page", "viewer", "GET", "/api/customers?page=99999999999999999999999999", None, 422),
    ("5000-digit page", "viewer", "GET", "/api/customers?page=" + "9" * 5000, None, 422),
    ("page not a number", "viewer", "GET", "/api/customers?page=one", None, 400),
    ("page a float", "viewer", "GET", "/api/jobs?page=1.5", None, 400),
    ("page twice", "viewer", "GET", "/api/jobs?page=1&page=2", None, 400),
    ("per_page 0", "viewer", "GET", "/api/jobs?per_page=0", None, 422),
    ("per_page 101", "viewer", "GET", "/api/audit-logs?per_page=101", None, 403),  # viewer: refused first
    ("per_page 101 as admin", "admin", "GET", "/api/audit-logs?per_page=101", None, 422),
    ("negative per_page", "viewer", "GET", "/api/notifications?per_page=-20", None, 422),
    ("negative limit", "viewer", "GET", "/api/dashboard/recent-jobs?limit=-1", None, 422),
    ("huge months", "viewer", "GET", "/api/dashboard/chart/jobs-by-month?months=1000000", None, 422),
    ("unknown query parameter", "viewer", "GET", "/api/customers?per_page=5&debug=1", None, 400),
    # Unknown enum values
    ("unknown job status filter", "viewer", "GET", "/api/jobs?status=shipped", None, 422),
    ("unknown job status", "manager", "PATCH", "/api/jobs/{job}", obj({"status": "shipped"}), 422),
    ("unknown priority", "manager", "POST", "/api/jobs",
     obj({"customer_id": 1, "title": "x", "priority": "asap"}), 422),
    ("unknown step status", "manager", "PATCH", "/api/steps/{step}", obj({"status": "done"}), 422),
    ("step back to pending", "manager", "PATCH", "/api/steps/{step}", obj({"status": "pending"}), 422),
    ("unknown role", "admin", "POST", "/api/users",
     obj({"username": "eve", "password": "long-enough-pw", "role": "superadmin"}), 422),
    ("unknown role in a path", "admin", "PUT", "/api/roles/root/permissions", obj({"process_ids": []}), 404),
    ("unknown machine status", "manager", "POST", "/api/machines",
     obj({"name": "m", "machine_type": "t", "status": "on fire"}), 422),
    ("unknown audit action", "admin", "GET", "/api/audit-logs?action=hack", None, 422),
    ("boolean filter not a boolean", "viewer", "GET", "/api/notifications?unread=maybe", None, 400),
]


@pytest.fixture(scope="module")
def target(test_database):
    """One app over one database for the module: nothing here may change a row, which each case checks."""
    with module_world(test_database, "Hostile Input Ltd", "in_progress") as world:
        ids = {"customer": world.customer, "job": world.job, "step": world.step,
               "user": world.auth.user_id("operator2")}
        yield world.app.test_client(), world.auth, world.conn, ids


@pytest.mark.parametrize("user, method, path, body, expected", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_hostile_input_is_refused_cleanly_and_changes_nothing(target, user, method, path, body, expected):
    client, auth, conn, ids = target
    headers = {"Content-Type": "application/json", **(auth.headers(user) if user else {})}
    before = fingerprint(conn)
    response = client.open(path.format(**ids), method=method, data=body, headers=headers)
    problem = response.get_json(silent=True) or {}
    assert response.status_code == expected, (response.status_code, problem)
    assert response.mimetype == "application/problem+json" and problem["status"] == expected
    assert "Traceback" not in response.get_data(as_text=True)
    assert changed_tables(before, fingerprint(conn)) == []


def test_a_body_that_is_not_declared_json_is_refused(target):
    client, auth, conn, _ = target
    before = fingerprint(conn)
    response = client.post("/api/customers", data='{"name": "x"}', headers={
        "Content-Type": "text/plain", **auth.headers("manager")})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert changed_tables(before, fingerprint(conn)) == []


def test_a_far_page_is_a_clear_400_that_points_to_the_cursor(target):
    client, auth, _, _ = target
    response = client.get("/api/customers?page=1000000&per_page=100", headers=auth.headers("viewer"))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "cursor" in response.get_json()["detail"]  # an OFFSET that deep would read every row before it


@pytest.mark.parametrize("text", [
    SQL_METACHARACTERS,
    "\u202eevil\u202c \u200b\u200d\ufeff",              # bidi override, zero-width characters, BOM
    "e\u0301 \u00e9 \ufb01 \u2126 \U0001F469\u200D\U0001F52C",  # NFD vs NFC, ligature, ohm, ZWJ emoji
    "\U0010FFFF \uFFFD \u00A0 \u2028 \u2029",       # top code point, replacement character, separators
    "日本語の顧客 𠜎 عربى",
], ids=["sql metacharacters", "bidi and zero-width", "normalization forms", "edge code points", "cjk and rtl"])
def test_hostile_but_valid_text_is_stored_and_found_verbatim(client, auth, db, text):
    tables_before = set(fingerprint(db))
    created = client.post("/api/customers", json={"name": text[:200], "notes": text},
                          headers=auth.headers("manager"))
    assert created.status_code == 201, created.get_json()
    customer = created.get_json()
    assert customer["notes"] == text.strip() and customer["name"] == text[:200].strip()
    assert client.get(f"/api/customers/{customer['id']}", headers=auth.headers("viewer")).get_json() == customer
    term = text.strip()[:50]
    found = client.get("/api/customers", query_string={"q": term}, headers=auth.headers("viewer"))
    if re.search(r"[^\W_]{3}", term):
        assert found.status_code == 200 and [item["id"] for item in found.get_json()["items"]] == [customer["id"]]
    else:  # no three letters or digits in a row: no trigram index can serve it, a clear 422 (web/listing.py)
        assert found.status_code == 422 and found.get_json()["errors"][0]["field"] == "q"
    assert set(fingerprint(db)) == tables_before  # every table is still there
