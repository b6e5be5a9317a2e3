"""Login input (issue 20): passwords compared exactly as set, small bodies before any parsing, and a
forwarded IPv6 address with a zone id that still logs in and leaves its failed-login row."""
import pytest

from tests.support.auth import login
from tests.support.checks import changed_tables, fingerprint

SPACED = "  correct horse battery  "


def _create(client, auth, password):
    user = {"username": "spaced", "password": password, "role": "operator", "full_name": "Spaced Out"}
    answer = client.post("/api/users", json=user, headers=auth.headers("admin"))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def test_a_password_with_surrounding_spaces_logs_in_exactly_as_set(client, auth):
    _create(client, auth, SPACED)
    assert login(client, "spaced", SPACED).status_code == 200
    assert login(client, "spaced", SPACED.strip()).status_code == 401


def test_a_changed_password_with_spaces_logs_in_exactly_as_set(client, auth):
    user_id = _create(client, auth, "first password")
    answer = client.patch(f"/api/users/{user_id}", json={"password": " new one "}, headers=auth.headers("admin"))
    assert answer.status_code == 200
    assert login(client, "spaced", " new one ").status_code == 200
    assert login(client, "spaced", "new one").status_code == 401


@pytest.mark.parametrize("password", ["demo\x00", "x" * 1025, ""], ids=["nul", "too-long", "empty"])
def test_a_password_out_of_bounds_is_a_422(client, password):
    answer = login(client, "admin", password)
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == "password"


def test_a_large_login_body_is_a_413_before_it_is_parsed(client, db):
    before = fingerprint(db, exclude=())
    body = '{"username": "admin", "password": "demo"' + " " * 5000 + "}"
    answer = client.post("/api/auth/login", data=body, content_type="application/json")
    assert answer.status_code == 413 and answer.mimetype == "application/problem+json"
    # Refused before the rate limits counted it or a failed login was written: no row changed at all.
    assert changed_tables(before, fingerprint(db, exclude=())) == []
    padded = '{"username": "admin", "password": "demo"' + " " * 3000 + "}"
    assert client.post("/api/auth/login", data=padded, content_type="application/json").status_code == 200


def test_every_route_without_a_token_has_the_small_limit_and_others_the_large_one(client, auth):
    assert client.get("/api/health", data="x" * 5000).status_code == 413
    assert client.get("/api/openapi.json", data="x" * 5000).status_code == 413
    body = '{"name": "Padded Signs"' + " " * 8000 + "}"
    answer = client.post("/api/customers", data=body, content_type="application/json",
                         headers=auth.headers("manager"))
    assert answer.status_code == 201


@pytest.fixture
def behind_proxy(new_app, database_url):
    return new_app(database_url, FORWARDED_ALLOW_IPS="127.0.0.1").test_client()


def test_a_forwarded_address_with_a_zone_id_logs_in_and_fails_on_the_record(behind_proxy, db):
    scoped = "fe80::1%eth0"
    assert login(behind_proxy, "admin", "wrong", forwarded_for=scoped).status_code == 401
    assert login(behind_proxy, "admin", "demo", forwarded_for=scoped).status_code == 200
    with db.cursor() as cur:
        cur.execute("SELECT host(ip) FROM failed_logins")
        assert cur.fetchall() == [("fe80::1",)]
        cur.execute("SELECT host(ip) FROM sessions WHERE ip IS NOT NULL")
        assert cur.fetchall() == [("fe80::1",)]
