"""Ended sessions stay ended on a standby: a logout the standby had not replayed when the primary stopped is
still refused in read-only mode, because every worker kept what it heard (NOTIFY 'session_ended').

Also measured (printed with -s): the window a worker cannot know of, from an end's commit to its notice here.
"""
import time

import pytest

from apps.api import db, open_resources
from tests.support.auth import AuthActions
from tests.support.load import print_report
from tests.support.private_pg import primary_with_standby
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers():
    with primary_with_standby("printshop-ended-sessions-") as pair:
        yield pair


@pytest.fixture
def world(servers, new_app):
    primary, standby = servers
    app = new_app(primary.url, DATABASE_REPLICA_URLS=standby.url("postgres"))
    open_resources(app)  # its listener hears every session end
    yield app, AuthActions(app, primary.url), primary, standby
    standby_sql = standby.url("postgres")
    db_execute(standby_sql, "SELECT pg_wal_replay_resume()")
    primary.start()


def db_execute(url, statement):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def ended(app):
    return app.extensions["ended_sessions"]


def test_a_logout_the_standby_never_replayed_stays_refused_in_read_only_mode(world):
    app, auth, primary, standby = world
    client = app.test_client()
    leaving, staying, manager = auth.headers("operator1"), auth.headers("viewer"), auth.headers("manager")
    assert client.get("/api/auth/me", headers=leaving).status_code == 200
    assert eventually(lambda: db.database(app).databases()[1]["state"] == "in_rotation", timeout=10)
    # The standby stops replaying: it will still hold the session as live, whatever the primary commits.
    db_execute(standby.url("postgres"), "SELECT pg_wal_replay_pause()")
    heard_before = ended(app).heard
    assert client.post("/api/auth/logout", headers=leaving).status_code == 200
    assert eventually(lambda: ended(app).heard > heard_before, timeout=5)

    primary.stop()
    client.post("/api/customers", json={"name": "x"}, headers=manager)  # opens the breaker
    assert eventually(lambda: db.read_only(app), timeout=5)
    live_on_standby = db_execute(standby.url("postgres"), "SELECT count(*) FROM sessions WHERE ended_at IS NULL "
                                 "AND user_id = (SELECT id FROM users WHERE username = 'operator1')")
    assert live_on_standby[0][0] >= 1  # the standby still says the session lives
    time.sleep(0.3)  # past the session-state cache's view (0.2 s in tests): the check reads the standby now
    for path in ("/api/auth/me", "/api/customers", "/api/auth/sessions"):
        assert client.get(path, headers=leaving).status_code == 401, path
        assert client.get(path, headers=staying).status_code == 200, path  # reads go on from the standby


def test_the_window_from_an_ends_commit_to_its_notice_is_measured(world):
    import psycopg2

    app, auth, primary, _ = world
    windows = []
    conn = psycopg2.connect(primary.url)
    conn.autocommit = True
    try:
        for _ in range(20):
            sid, _ = auth.start_session("viewer")
            with conn.cursor() as cur:
                sent = time.perf_counter()  # an upper bound: the statement's own round trip is counted too
                cur.execute("UPDATE sessions SET ended_at = now(), ended_reason = 'revoked' WHERE id = %s", (sid,))
            assert eventually(lambda sid=sid: ended(app).ended(sid), timeout=5, step=0.0002)
            windows.append(time.perf_counter() - sent)
    finally:
        conn.close()
    windows.sort()
    print_report("commit to notice (a worker cannot know of an end meanwhile)",
                 {"median_ms": round(windows[len(windows) // 2] * 1000, 2), "max_ms": round(windows[-1] * 1000, 2)})
    assert windows[-1] < 1.0
