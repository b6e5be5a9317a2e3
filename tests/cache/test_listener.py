"""The LISTEN thread of a worker: notifications from any writer, coalescing, reconnecting, stopping."""
import threading

from apps.api.cache import get_cache
from apps.api.cache.listener import Listener
from tests.support.auth import get_as
from tests.support.probe import Probe
from tests.support.waiting import eventually

DELIVERED_WITHIN = 1.0  # seconds: the contract's bound for a notification to reach a worker's cache


def get(client, auth, path):
    return get_as(client, auth, path, "operator1")


def notify(db, *prefixes):
    """Send the prefixes on the cache channel in one transaction (delivered together at commit)."""
    with db.cursor() as cur:
        cur.execute("BEGIN")
        for prefix in prefixes:
            cur.execute("SELECT pg_notify('cache_invalidate', %s)", (prefix,))
        cur.execute("COMMIT")


def test_a_notification_from_plain_sql_drops_matching_entries(app, auth, db):
    Probe(app)
    client = app.test_client()
    get(client, auth, "/api/probe")
    get(client, auth, "/api/dashboard/stats")
    notify(db, "/api/probe")
    cache = get_cache(app)
    assert eventually(lambda: cache.stats("/api/probe")["total_entries"] == 0, timeout=DELIVERED_WITHIN)
    assert cache.stats()["total_entries"] == 1
    assert get(client, auth, "/api/dashboard/stats").headers["X-Cache"] == "HIT"
    notify(db, "")
    assert eventually(lambda: cache.stats()["total_entries"] == 0, timeout=DELIVERED_WITHIN)


def test_a_burst_of_notifications_is_applied_once(app, auth, db):
    Probe(app)
    client = app.test_client()
    for n in range(3):
        get(client, auth, f"/api/probe?n={n}")
    cache = get_cache(app)
    before = cache.listener.status()
    dropped = []
    invalidate = cache.invalidate
    cache.invalidate = lambda prefix="": dropped.append(prefix) or invalidate(prefix)
    notify(db, *[f"/api/probe?{n}" for n in range(48)], "/api/probe", "/api/probe|user=")
    assert eventually(lambda: cache.listener.status()["deliveries"] == before["deliveries"] + 1,
                      timeout=DELIVERED_WITHIN)
    assert cache.listener.status()["notifications"] == before["notifications"] + 50
    # One delivery, and each covered prefix once: "/api/probe" covers the 49 longer ones.
    assert dropped == ["/api/probe"]
    assert cache.stats()["total_entries"] == 0


def test_a_lost_connection_clears_everything_and_reconnects(app, auth, db):
    Probe(app)
    client = app.test_client()
    get(client, auth, "/api/probe")
    cache = get_cache(app)
    first_backend = cache.listener.backend_pid
    with db.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (first_backend,))
    assert eventually(lambda: cache.listener.status()["reconnects"] == 1 and cache.listener.listening)
    status = cache.listener.status()
    assert status["backend_pid"] != first_backend and status["last_error"].startswith("OperationalError")
    assert cache.stats()["total_entries"] == 0
    assert get(client, auth, "/api/probe").headers["X-Cache"] == "MISS"
    assert get(client, auth, "/api/probe").headers["X-Cache"] == "HIT"
    notify(db, "/api/probe")  # the new connection listens
    assert eventually(lambda: cache.stats()["total_entries"] == 0, timeout=DELIVERED_WITHIN)


def test_a_stopped_listener_closes_its_connection(app, auth, db):
    client = app.test_client()
    get(client, auth, "/api/dashboard/stats")
    listener = get_cache(app).listener
    backend = listener.backend_pid
    with db.cursor() as cur:
        cur.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", (backend,))
        assert cur.fetchone()[0].startswith("printshop:listener:")
    listener.stop()
    assert listener.state == "stopped"

    def gone():
        with db.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,))
            return cur.fetchone()[0] == 0

    assert eventually(gone, timeout=DELIVERED_WITHIN)


def test_an_unreachable_database_keeps_retrying_until_stopped():
    received = []
    cleared = threading.Event()
    listener = Listener("postgresql://listener_user@127.0.0.1:1/nothing?connect_timeout=1",
                        lambda prefixes: (received.append(set(prefixes)), cleared.set()))
    assert listener.start(wait=0.5) is False
    assert cleared.wait(3) and received[0] == {""}
    status = listener.status()
    assert status["state"] == "reconnecting" and status["last_error"].startswith("OperationalError")
    # What /api/health/cache shows names no host, address or user (main showed psycopg2's whole message).
    assert not any(secret in str(status) for secret in ("127.0.0.1", "listener_user", "port 1"))
    assert status["reconnects"] == 0  # never connected, so never re-connected
    listener.stop()
    assert listener.state == "stopped" and not listener.alive()
