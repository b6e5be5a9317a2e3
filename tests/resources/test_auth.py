"""Login, refresh, logout, me, and every way a token can be bad."""
import base64
import json
import time

import jwt as pyjwt
import pytest

from tests.support.apps import SESSION_STATE_TTL
from tests.support.auth import TEST_SECRET, login


def test_login_returns_tokens_and_user(client):
    response = login(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["username"] == "admin" and body["user"]["role"] == "admin"
    claims = pyjwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(body["user"]["id"]) and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_login_is_audited(client, db):
    login(client)
    with db.cursor() as cur:
        cur.execute("SELECT action, entity, ip FROM audit_logs")
        assert cur.fetchall() == [("login", "users", "127.0.0.1")]


@pytest.mark.parametrize("username, password", [("admin", "wrong"), ("nobody", "demo")])
def test_bad_credentials_are_401(client, username, password):
    response = login(client, username, password)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("body, status", [
    (None, 400), ({"username": "admin"}, 422), ({"username": 5, "password": "x"}, 422),
    ({"username": "admin", "password": "demo", "extra": 1}, 422),
])
def test_login_validation(client, body, status):
    response = client.post("/api/auth/login", json=body) if body is not None else \
        client.post("/api/auth/login", data="{not json", content_type="application/json")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_inactive_user_cannot_log_in_and_tokens_stop(client, auth, db):
    headers = auth.headers("operator1")
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    with db.cursor() as cur:
        cur.execute("UPDATE users SET is_active = false WHERE username = 'operator1'")
    assert login(client, "operator1").status_code == 401
    time.sleep(SESSION_STATE_TTL + 0.1)  # the token-state cache may answer for up to its TTL
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_the_auth_helper_starts_a_session_per_token_over_one_connection(auth, db):
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM sessions")
        before = cur.fetchone()[0]
        tokens = {auth.headers("viewer")["Authorization"] for _ in range(5)}
        cur.execute("SELECT count(*) FROM sessions")
        assert len(tokens) == 5 and cur.fetchone()[0] == before + 5
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'printshop-tests-auth'")
        assert cur.fetchone()[0] == 1


def test_me(client, auth):
    response = client.get("/api/auth/me", headers=auth.headers("manager"))
    assert response.status_code == 200
    assert {"id", "username", "full_name", "role"} <= set(response.get_json())
    assert response.get_json()["role"] == "manager"


def test_refresh_gives_an_access_token(client):
    refresh_token = login(client).get_json()["refresh_token"]
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})
    assert response.status_code == 200
    access = response.get_json()["access_token"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200


def test_access_token_cannot_refresh_and_refresh_token_cannot_access(client):
    tokens = login(client).get_json()
    assert client.post("/api/auth/refresh",
                       headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    assert client.get("/api/auth/me",
                      headers={"Authorization": f"Bearer {tokens['refresh_token']}"}).status_code == 401


def test_logout_revokes_in_another_app_instance(client, database_url, new_app):
    tokens = login(client).get_json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    other = new_app(database_url).test_client()
    assert other.get("/api/auth/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code == 200
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    time.sleep(SESSION_STATE_TTL + 0.1)  # the other instance's token-state cache expires
    assert other.get("/api/auth/me", headers=headers).status_code == 401


def test_refresh_token_can_be_revoked(client):
    refresh_token = login(client).get_json()["refresh_token"]
    headers = {"Authorization": f"Bearer {refresh_token}"}
    assert client.post("/api/auth/logout/refresh", headers=headers).status_code == 200
    assert client.post("/api/auth/refresh", headers=headers).status_code == 401


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _bad_tokens(auth):
    good = auth.token("viewer")
    header, payload, signature = good.split(".")
    claims = pyjwt.decode(good, TEST_SECRET, algorithms=["HS256"])
    now = int(time.time())
    return {
        "garbage": "not-a-jwt",
        "bad signature": f"{header}.{payload}.{signature[::-1]}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong key": pyjwt.encode(claims, "another-secret-that-is-long-enough-000000", algorithm="HS256"),
        "expired": pyjwt.encode(dict(claims, iat=now - 3600, nbf=now - 3600, exp=now - 60), TEST_SECRET,
                                algorithm="HS256"),
        "forged role": f"{header}.{_b64(dict(claims, role='admin'))}.{signature}",
        "HS512": pyjwt.encode(claims, TEST_SECRET, algorithm="HS512"),
    }


@pytest.mark.parametrize("case", ["missing", "no bearer", "garbage", "bad signature", "alg none",
                                  "wrong key", "expired", "forged role", "HS512"])
def test_bad_tokens_are_401_problems(client, auth, case):
    if case == "missing":
        headers = {}
    elif case == "no bearer":
        headers = {"Authorization": auth.token("viewer")}
    else:
        headers = {"Authorization": f"Bearer {_bad_tokens(auth)[case]}"}
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401


def test_role_change_invalidates_old_tokens(client, auth, db):
    headers = auth.headers("operator2")
    with db.cursor() as cur:
        cur.execute("UPDATE users SET role = 'viewer' WHERE username = 'operator2'")
    time.sleep(SESSION_STATE_TTL + 0.1)
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_token_describes_itself(client, auth):
    response = client.get("/api/auth/token", headers=auth.headers("operator4"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["user_id"] == auth.user_id("operator4") and body["role"] == "operator"
    assert body["type"] == "access" and body["expires_at"] - body["issued_at"] == 15 * 60
