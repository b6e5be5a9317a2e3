"""A worker remembers the access tokens it verified (apps/api/web/verified_tokens.py): never a way around a check."""
import time
from datetime import timedelta

from apps.api.web.verified_tokens import EXTENSION, VerifiedTokens


def _memory(app):
    return app.extensions[EXTENSION]


def test_a_repeated_token_is_served_from_memory_and_a_changed_byte_is_not(app, client, auth):
    headers = auth.headers("viewer", fresh=False)
    token = headers["Authorization"].split(" ", 1)[1]
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert _memory(app).known(token) is not None
    head, payload, signature = token.split(".")
    tampered = ".".join((head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")))
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401 and _memory(app).known(tampered) is None


def test_an_ended_session_is_refused_although_its_token_is_remembered(app, client, auth):
    headers = auth.headers("viewer", fresh=False)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code in (200, 204)
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_a_refresh_token_is_never_taken_for_an_access_token(app, client, auth):
    access, refresh = auth.headers("viewer", fresh=False), auth.headers("viewer", refresh=True)
    assert client.get("/api/auth/me", headers=access).status_code == 200
    assert client.post("/api/auth/refresh", headers=refresh).status_code == 200
    assert client.get("/api/auth/me", headers=refresh).status_code == 401  # twice: not remembered either
    assert client.get("/api/auth/me", headers=refresh).status_code == 401


def test_a_remembered_token_is_refused_once_it_expires(app, client, auth):
    from flask_jwt_extended import create_access_token

    sid, _ = auth.start_session("viewer")
    with app.app_context():
        token = create_access_token(identity=str(auth.user_id("viewer")), expires_delta=timedelta(seconds=2),
                                    additional_claims={"role": "viewer", "sid": sid})
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    time.sleep(2.5)
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401 and "expired" in response.get_json()["detail"]


def test_the_memory_is_bounded():
    memory = VerifiedTokens()
    far = time.time() + 600
    for number in range(10_001):
        memory.remember(f"t{number}", {"exp": far}, {})
    assert len(memory.tokens) <= 10_000 and memory.known("t10000") is not None
