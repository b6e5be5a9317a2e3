"""Liveness, readiness and the JSON error handlers."""
import pytest


def test_liveness_needs_no_database(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_ready_when_database_answers(client):
    response = client.get("/api/health/ready")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"


def test_ready_is_503_when_database_is_down(new_app):
    app = new_app("postgresql://postgres@127.0.0.1:1/nothing", DB_CONNECT_TIMEOUT=1)
    response = app.test_client().get("/api/health/ready")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"]
    body = response.get_json()
    assert body["status"] == 503 and body["title"] and body["detail"]
    # Liveness stays up: the process still serves.
    assert app.test_client().get("/api/health").status_code == 200


@pytest.mark.parametrize("method, path, status", [
    ("get", "/api/nothing-here", 404),
    ("delete", "/api/health", 405),
])
def test_errors_are_problem_json(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == status


def test_unexpected_error_is_500_without_internals(app):
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "secret internals" not in response.get_data(as_text=True)
