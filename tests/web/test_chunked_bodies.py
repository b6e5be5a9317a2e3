"""A chunked body over a route's limit is a 413 problem+json, like a declared one (login's 4 KiB, the general limit).

The requests are what gunicorn hands the app for `Transfer-Encoding: chunked`: no Content-Length, and
`wsgi.input_terminated` set (the server ends the stream at the last chunk).
"""
import io
import json

import pytest

from apps.api import close_resources
from tests.support.apps import build_app
from tests.support.auth import AuthActions
from tests.support.database import reset_database

CHUNKED = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}


def chunked(client, path, body, headers=None):
    return client.post(path, input_stream=io.BytesIO(body), headers={**CHUNKED, **(headers or {})},
                       environ_overrides={"wsgi.input_terminated": True})


def login_body(username_length):
    return json.dumps({"username": "a" * username_length, "password": "x"}).encode()


@pytest.fixture(scope="module")
def world(test_database):
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    app = build_app(url, MAX_CONTENT_LENGTH=8192)
    yield app, app.test_client(), AuthActions(app, url)
    close_resources(app)  # its pool: no connection left open to the shared test database


@pytest.mark.parametrize("send", ["declared", "chunked"])
def test_a_login_body_over_4_kib_is_a_413_problem_whichever_way_it_comes(world, send):
    _, client, _ = world
    body = login_body(5000)
    if send == "chunked":
        answer = chunked(client, "/api/auth/login", body)
    else:
        answer = client.post("/api/auth/login", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.mimetype == "application/problem+json"
    assert "4096 bytes" in answer.get_json()["detail"]


def test_a_chunked_body_within_the_limit_is_read_whole(world):
    _, client, _ = world
    answer = chunked(client, "/api/auth/login", login_body(100))
    assert answer.status_code == 422  # read whole and judged: the name is too long, not a malformed body
    assert answer.get_json()["errors"][0]["field"] == "username"


def test_a_chunked_body_over_the_general_limit_is_a_413_problem_and_writes_nothing(world):
    _, client, auth = world
    manager = auth.headers("manager")
    too_big = json.dumps({"name": "Chunked Ltd", "notes": "n" * 9000}).encode()
    answer = chunked(client, "/api/customers", too_big, manager)
    assert answer.status_code == 413 and answer.mimetype == "application/problem+json"
    fits = chunked(client, "/api/customers", json.dumps({"name": "Chunked Ltd"}).encode(), manager)
    assert fits.status_code == 201, fits.get_json()
    listed = client.get("/api/customers?q=Chunked", headers=manager).get_json()
    assert [c["name"] for c in listed["items"]] == ["Chunked Ltd"]
