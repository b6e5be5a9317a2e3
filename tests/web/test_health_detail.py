"""Health for viewers and operators: statuses, counts and warnings; host names, pids, code locations and thread
names for admins only."""
import time

import pytest

from apps.api import close_resources, open_resources
from apps.api.db import get_pool
from apps.api.resources.health_schema import ADMIN_ONLY_KEYS
from tests.support.apps import build_app
from tests.support.auth import AuthActions
from tests.support.database import reset_database
from tests.support.waiting import eventually

PATHS = ("/api/health/db", "/api/health/db?scope=all", "/api/health/cache", "/api/health/cache?scope=all")


@pytest.fixture(scope="module")
def world(test_database):
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    app = build_app(url, DB_POOL_LEAK_THRESHOLD=0.05, HEARTBEAT_SECONDS=0.2)
    open_resources(app)
    yield app, AuthActions(app, url)
    close_resources(app)


def _keys(value):
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_keys(item) for item in value))
    return set()


def _answers(app, headers):
    client = app.test_client()
    with get_pool(app).connection():  # held past the leak threshold while health is asked
        time.sleep(0.1)
        return {path: client.get(path, headers=headers).get_json() for path in PATHS}


def test_admins_see_pids_host_names_code_locations_and_threads(world):
    app, auth = world
    assert eventually(lambda: app.test_client().get("/api/health/db?scope=all", headers=auth.headers("admin"))
                      .get_json()["workers"], 10, step=0.1)
    answers = _answers(app, auth.headers("admin"))
    assert {"pid", "instance", "backend_pid"} <= set().union(*(_keys(body) for body in answers.values()))
    leak = [w for w in answers["/api/health/db"]["warnings"] if w.startswith("possible leak")]
    assert leak and " borrowed at " in leak[0] and " by thread " in leak[0]


@pytest.mark.parametrize("user", ["viewer", "operator1", "manager"])
def test_others_see_statuses_counts_and_warnings_only(world, user):
    app, auth = world
    answers = _answers(app, auth.headers(user))
    for path, body in answers.items():
        assert body["status"] and not _keys(body) & ADMIN_ONLY_KEYS, (path, _keys(body) & ADMIN_ONLY_KEYS)
    db_health = answers["/api/health/db"]
    assert db_health["pool_stats"]["max_connections"] > 0 and db_health["databases"][0]["state"] == "up"
    assert answers["/api/health/db?scope=all"]["workers"]  # counted, not named
    leak = [w for w in db_health["warnings"] if w.startswith("possible leak")]
    assert leak and " borrowed at " not in leak[0] and "thread" not in leak[0] and ".py" not in leak[0]
