"""The production topology for real: nginx in front of two gunicorn instances, PgBouncer in transaction
mode in front of the primary, and a streaming standby made with the embedded PostgreSQL's pg_basebackup.

Under a mixed read/write load through nginx: a cache clear and a logout reach every worker of both
instances within 1 s; then the standby stops (and comes back), PgBouncer restarts, one instance stops.
No 500, every acknowledged write is in the primary, reads fall back to the primary and return to the
standby. Each fault's measured outcome is printed (`pytest -s`).
"""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg2
import pytest

from apps.api import create_app
from tests.support.apps import app_config
from tests.support.auth import AuthActions
from tests.support.checks import each_worker_cache_stats, each_worker_db_health
from tests.support.gunicorn import GunicornServer
from tests.support.load import Load, missing_writes, print_report
from tests.support.nginx import Nginx
from tests.support.pgbouncer import PgBouncer
from tests.support.private_pg import PrivatePostgres
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]

MIX = (
    (2, "manager", "POST", "/api/customers"),
    (2, "viewer", "GET", "/api/customers?per_page=5&q={tag}"),
    (2, "viewer", "GET", "/api/jobs?per_page=5"),
    (1, "viewer", "GET", "/api/dashboard/stats"),
)
READS = ("/api/customers?per_page=5&q={tag}", "/api/jobs?per_page=5", "/api/dashboard/stats")


@pytest.fixture(scope="module")
def topology():
    primary = PrivatePostgres(prefix="printshop-topology-").start()
    standby = primary.server.make_standby(primary.data_dir / "standby").start()
    bouncer = PgBouncer(primary.server.port, primary.server.password).start()
    env = {"DATABASE_DIRECT_URL": primary.url, "DATABASE_REPLICA_URLS": standby.url("postgres"),
           "DB_REPLICA_MAX_LAG_SECONDS": "2", "HEARTBEAT_SECONDS": "0.5", "DB_POOL_MIN_CONNECTIONS": "1",
           "DB_POOL_MAX_CONNECTIONS": "4", "DB_POOL_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2",
           "RATE_LIMITS_ENABLED": "false", "GRACEFUL_DRAIN_SECONDS": "0"}
    instances = [GunicornServer(bouncer.url(), workers=2, threads=4, env=dict(env, INSTANCE_NAME=name))
                 for name in ("blue", "green")]
    try:
        for instance in instances:
            instance.start(timeout=60)
        balancer = Nginx([instance.port for instance in instances]).start()
        try:
            yield primary, standby, bouncer, instances, balancer
        finally:
            balancer.stop()
    finally:
        for instance in instances:
            instance.stop()
        bouncer.close()
        standby.remove()
        primary.close()


def window(load, started, back_at, until):
    """Measure the requests sent from `started` to `until`: sent, failed, recovered after `back_at`."""
    outcomes = [o for o in load.outcomes if started <= o.started < until]
    failed = [o for o in outcomes if not o.ok]
    reads_failed = [o for o in failed if o.method == "GET"]
    last_failure = max((o.ended for o in failed), default=back_at)
    return {"sent": len(outcomes), "failed": len(failed), "reads_failed": len(reads_failed),
            "failed_by_status": sorted({str(o.status) for o in failed}),
            "fault_s": round(back_at - started, 2), "recovered_after_s": round(max(0.0, last_failure - back_at), 2)}


def replica_reads(instance, headers):
    """Return (replica reads so far, replica states) summed over every live worker of every instance."""
    status, _, body = instance.request("GET", "/api/health/db?scope=all", headers=headers)
    assert status == 200, body
    replicas = [worker["databases"][1] for worker in body["workers"] if len(worker["databases"]) > 1]
    return sum(r["pool"]["requests_num"] for r in replicas), {r["state"] for r in replicas}, len(body["workers"])


def reaches_every_worker(instances, headers, act, seen_by):
    """Run `act()` (which returns its wall-clock time); return the slowest worker's delay in seconds."""
    at = act()
    delays = []
    for instance in instances:
        stats = each_worker_cache_stats(instance, headers, prefix="/api/dashboard", until=seen_by(at))
        delays += [(datetime.fromisoformat(s["listener"]["last_delivery_at"]) - at).total_seconds()
                   for s in stats.values()]
    return max(delays)


def test_faults_under_load_through_the_whole_topology(topology):
    primary, standby, bouncer, instances, balancer = topology
    auth = AuthActions(create_app(app_config(primary.url)), primary.url)
    tokens = {user: auth.headers(user) for user in ("manager", "viewer", "admin")}
    load = Load(balancer, tokens, clients=6, mix=MIX, tag="topology", pause=0.01).start()
    measured = {}
    try:
        assert load.wait_for_successes(30, timeout=60), f"no healthy baseline: {load.statuses()}"
        assert eventually(lambda: replica_reads(instances[0], tokens["viewer"])[1:] == ({"in_rotation"}, 4),
                          15, step=0.1)

        # A cache clear reaches every worker of both instances within 1 s. Every worker listens first (the
        # balancer's kept-alive connections may bring all of the load to one worker, so not all have entries).
        for instance in instances:
            each_worker_cache_stats(instance, tokens["admin"], prefix="/api/dashboard",
                                    until=lambda stats: stats["listener"]["state"] == "listening", timeout=20)

        def clear():
            at = datetime.now(UTC)
            assert balancer.request("POST", "/api/health/cache/clear", {"prefix": "/api/dashboard"},
                                    headers=tokens["admin"])[0] == 200
            return at

        def cleared_since(at):
            return lambda stats: (stats["listener"]["last_delivery_at"] or "") >= at.isoformat()

        measured["cache_clear_slowest_worker_s"] = round(reaches_every_worker(
            instances, tokens["admin"], clear, cleared_since), 3)

        # A logout reaches every worker of both instances within 1 s: every worker has just accepted the
        # token (and keeps that answer up to 1 s), then from 1 s after the logout every one refuses it.
        status, _, session = balancer.request("POST", "/api/auth/login", {"username": "admin", "password": "demo"})
        assert status == 200, session
        bearer = {"Authorization": f"Bearer {session['access_token']}"}
        for instance in instances:
            each_worker_db_health(instance, bearer)
        assert balancer.request("POST", "/api/auth/logout", headers=bearer)[0] == 200
        logged_out, last_accepted = time.monotonic(), 0.0
        while time.monotonic() - logged_out < 1.5:
            sent_at = time.monotonic() - logged_out
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda n: instances[n % 2].request("GET", "/api/auth/me", headers=bearer)[0],
                                        range(16)))
            if 200 in answers:
                last_accepted = sent_at
            assert set(answers) <= {200, 401}, answers
        measured["logout_last_accepted_after_s"] = round(last_accepted, 3)
        assert last_accepted <= 1.0, measured

        # Fault 1: the standby stops; reads go to the primary; it comes back into rotation.
        reads_before, _, _ = replica_reads(instances[0], tokens["viewer"])
        started = time.monotonic()
        standby.stop(mode="fast")
        time.sleep(3)
        down_states = replica_reads(instances[0], tokens["viewer"])[1]
        standby.start()
        back_at = time.monotonic()
        returned = eventually(lambda: replica_reads(instances[0], tokens["viewer"])[1] == {"in_rotation"}, 20, step=0.1)
        returned_after = time.monotonic() - back_at
        time.sleep(1)
        reads_after, _, _ = replica_reads(instances[0], tokens["viewer"])
        measured["replica_stop"] = dict(window(load, started, back_at, time.monotonic()),
                                        back_in_rotation_after_s=round(returned_after, 2))
        assert down_states == {"down"} and returned and reads_after > reads_before, (down_states, reads_after)
        assert measured["replica_stop"]["reads_failed"] == 0, measured

        # Fault 2: PgBouncer restarts (every server and client connection through it is cut).
        started = time.monotonic()
        bouncer.stop()
        time.sleep(0.5)
        bouncer.start()
        back_at = time.monotonic()
        assert load.wait_for_successes(30, timeout=30, since=back_at), load.statuses()
        measured["pgbouncer_restart"] = window(load, started, back_at, time.monotonic())

        # Fault 3: one instance stops (SIGTERM, nginx not told); nginx sends everything to the other. A
        # request already sent to it when it closed the connection is resent only when idempotent: a POST
        # caught so may answer 502 from nginx (its write is then all there or not at all).
        started = time.monotonic()
        instances[1].stop()
        back_at = time.monotonic()
        time.sleep(2)
        assert load.wait_for_successes(30, timeout=30, since=back_at), load.statuses()
        stop_window = (started, time.monotonic())
        measured["instance_stop"] = window(load, started, back_at, stop_window[1])
    finally:
        load.stop()
    began = load.outcomes[0].started if load.outcomes else 0.0
    measured["total"] = {"sent": len(load.outcomes), "writes_acknowledged": len(load.acknowledged),
                         "failed": [(o.method, o.path, o.status, round(o.started - began, 2))
                                    for o in load.outcomes if not o.ok]}
    print_report("topology", measured)
    assert measured["cache_clear_slowest_worker_s"] <= 1.0, measured
    assert not [o for o in load.outcomes if o.status == 500], "a 500 was answered"
    unsent_posts = [o for o in load.unclean_failures() if o.status == 502 and o.method == "POST"
                    and stop_window[0] <= o.started < stop_window[1]]
    assert [o for o in load.unclean_failures() if o not in unsent_posts] == [], load.unclean_failures()[:5]
    assert measured["instance_stop"]["reads_failed"] == 0, measured
    assert missing_writes(primary.url, load.acknowledged) == [], "acknowledged writes were lost"


def behind_pgbouncer(primary, **settings):
    """Return the environment of a gunicorn instance behind PgBouncer here, with `settings` added: its direct URL
    (scheduler, listener), a small pool, short timeouts, a fast heartbeat and no drain, so that tests run briefly."""
    return {"DATABASE_DIRECT_URL": primary.url, "DB_POOL_MIN_CONNECTIONS": "1", "DB_POOL_MAX_CONNECTIONS": "4",
            "DB_POOL_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2", "HEARTBEAT_SECONDS": "0.5",
            "GRACEFUL_DRAIN_SECONDS": "0", **settings}


@pytest.fixture(scope="module")
def primary_behind_pgbouncer():
    """A primary of its own behind PgBouncer (docs/operations.md's settings) and one gunicorn instance, no standby."""
    primary = PrivatePostgres(prefix="printshop-restart-").start()
    bouncer = PgBouncer(primary.server.port, primary.server.password).start()
    instance = GunicornServer(bouncer.url(), workers=2, threads=4, env=behind_pgbouncer(
        primary, RATE_LIMITS_ENABLED="false", INSTANCE_NAME="restart"))
    try:
        instance.start(timeout=60)
        yield primary, bouncer, instance
    finally:
        instance.stop()
        bouncer.close()
        primary.close()


def test_a_primary_restart_behind_pgbouncer_recovers_within_2_s(primary_behind_pgbouncer):
    # PgBouncer's default server_login_retry (15 s) kept every request a 503 for 15 s after the primary was
    # back; docs/operations.md's configuration (and tests/support/pgbouncer.py) retries the login within a second.
    primary, bouncer, instance = primary_behind_pgbouncer
    auth = AuthActions(create_app(app_config(primary.url)), primary.url)
    tokens = {user: auth.headers(user) for user in ("manager", "viewer")}
    load = Load(instance, tokens, clients=6, mix=MIX, tag="restart", pause=0.01).start()
    try:
        assert load.wait_for_successes(30, timeout=60), f"no healthy baseline: {load.statuses()}"
        started = time.monotonic()
        primary.stop(mode="fast")
        time.sleep(2)  # down long enough for PgBouncer's logins to the server to fail
        primary.start()  # pg_ctl start -w: returns once the server accepts connections
        back_at = time.monotonic()
        assert load.wait_for_successes(30, timeout=30, since=back_at), load.statuses()
        time.sleep(3)
        measured = {"primary_restart": window(load, started, back_at, time.monotonic())}
    finally:
        load.stop()
    print_report("primary restart behind PgBouncer", measured)
    assert measured["primary_restart"]["recovered_after_s"] <= 2.0, (measured, bouncer.log()[-1500:])
    assert not [o for o in load.outcomes if o.status == 500], "a 500 was answered"
    assert [o for o in load.unclean_failures()] == [], load.unclean_failures()[:5]
    assert missing_writes(primary.url, load.acknowledged) == [], "acknowledged writes were lost"


@pytest.fixture(scope="module")
def primary_topology():
    """A primary behind PgBouncer, a streaming standby, one gunicorn instance of 2 workers (no nginx: one
    instance is enough to see each worker's breaker; the other test's topology keeps its own servers)."""
    primary = PrivatePostgres(prefix="printshop-primary-stop-").start()
    standby = primary.server.make_standby(primary.data_dir / "standby").start()
    # PgBouncer tries the server again server_login_retry seconds after a failed login (15 by default),
    # answering every new client with an error meanwhile, and holds a query it could not place for
    # query_wait_timeout (120 s by default): docs/operations.md's settings let writes resume within about 1 s.
    bouncer = PgBouncer(primary.server.port, primary.server.password, settings="query_wait_timeout = 5\n").start()
    instance = GunicornServer(bouncer.url(), workers=2, threads=4, env=behind_pgbouncer(
        primary, DATABASE_REPLICA_URLS=standby.url("postgres"), DB_REPLICA_MAX_LAG_SECONDS="2",
        RATE_LIMITS_ENABLED="true", RATE_LIMIT_LISTS="100000/60", INSTANCE_NAME="solo"))
    try:
        instance.start(timeout=60)
        yield primary, standby, instance
    finally:
        instance.stop()
        bouncer.close()
        standby.remove()
        primary.close()


def readiness(instance):
    """Return what /api/health/ready says ("ready", "read_only", 503), or the error when it did not answer."""
    try:
        return instance.request("GET", "/api/health/ready", timeout=5)[2].get("status")
    except OSError as exc:
        return type(exc).__name__


def percentile_ms(outcomes, rank):
    """Return the `rank` percentile of the outcomes' durations in milliseconds (None without any)."""
    durations = sorted((o.ended - o.started) * 1000 for o in outcomes)
    if not durations:
        return None
    return round(durations[min(len(durations) - 1, -(-rank * len(durations) // 100) - 1)], 1)


def test_a_primary_stop_under_load_serves_reads_from_the_standby_and_fails_writes_fast(primary_topology):
    primary, standby, instance = primary_topology
    auth = AuthActions(create_app(app_config(primary.url)), primary.url)
    tokens = {user: auth.headers(user) for user in ("manager", "viewer")}
    load = Load(instance, tokens, clients=6, mix=MIX, tag="primary-stop", pause=0.01).start()
    measured = {}
    try:
        assert load.wait_for_successes(30, timeout=60), f"no healthy baseline: {load.statuses()}"
        assert eventually(lambda: replica_reads(instance, tokens["viewer"])[1:] == ({"in_rotation"}, 2),
                          20, step=0.1)

        stopped_at = time.monotonic()
        primary.stop(mode="fast")
        assert eventually(lambda: readiness(instance) == "read_only", 10, step=0.05)
        read_only_at = time.monotonic()
        time.sleep(3)
        ready = [readiness(instance) for _ in range(6)]
        primary.start()
        back_at = time.monotonic()
        writes_back = eventually(lambda: [o for o in list(load.outcomes)
                                          if o.method == "POST" and o.ok and o.started >= back_at], 30, step=0.05)
        assert writes_back, load.statuses()
        resumed_at = min(o.ended for o in writes_back)
        time.sleep(1)
    finally:
        load.stop()

    down = [o for o in load.outcomes if read_only_at <= o.started < back_at]
    reads, writes = [o for o in down if o.method == "GET"], [o for o in down if o.method == "POST"]
    measured["primary_stop"] = dict(
        window(load, stopped_at, back_at, time.monotonic()),
        read_only_after_s=round(read_only_at - stopped_at, 2), reads_while_read_only=len(reads),
        reads_failed_while_read_only=len([o for o in reads if not o.ok]),
        writes_while_read_only=len(writes), write_503_p50_ms=percentile_ms(writes, 50),
        write_503_p99_ms=percentile_ms(writes, 99), writes_resumed_after_s=round(resumed_at - back_at, 2))
    measured["total"] = {"sent": len(load.outcomes), "writes_acknowledged": len(load.acknowledged),
                         "failed": [(o.method, o.path, o.status, round(o.started - stopped_at, 2))
                                    for o in load.outcomes if not o.ok][:20]}
    print_report("primary stop", measured)
    assert set(ready) == {"read_only"}, ready
    assert reads and [o for o in reads if not o.ok] == [], measured
    assert writes and {o.status for o in writes} == {503}, measured
    assert not [o for o in load.outcomes if o.status == 500], "a 500 was answered"
    assert load.unclean_failures() == [], load.unclean_failures()[:5]
    assert missing_writes(primary.url, load.acknowledged) == [], "acknowledged writes were lost"
    conn = psycopg2.connect(primary.url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT email FROM customers WHERE email LIKE 'primary-stop-%%' GROUP BY email "
                        "HAVING count(*) > 1")
            assert cur.fetchall() == [], "a write was applied twice"
    finally:
        conn.close()
