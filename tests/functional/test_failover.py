"""Failover as a promise: a real primary, a real streaming standby, the app under a real gunicorn.

DATABASE_URL and DATABASE_DIRECT_URL name both servers in libpq's multi-host form with
target_session_attrs=read-write; the standby is also the read replica. Writes and reads run under load; the
primary stops; the standby is promoted (pg_ctl promote). Reads never fail; writes answer 503 with Retry-After
until the promotion and 201 within 10 s after it; every acknowledged write is on the new primary; `dashboard
verify` is clean; a cache clear and a logout reach every worker; the cache's listener, the scheduler's
election and the replica rotation after the promotion are shown (printed with -s) and checked.
"""
import os
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from apps.api import close_resources
from apps.api.ops.overdue import LOCK_KEY
from tests.support.apps import build_app
from tests.support.auth import AuthActions
from tests.support.checks import each_worker_cache_stats, each_worker_db_health
from tests.support.database import execute
from tests.support.gunicorn import GunicornServer
from tests.support.load import print_report
from tests.support.private_pg import primary_with_standby
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]
DOWN_SECONDS = 2.0       # the primary is gone this long before the promotion: read-only mode meanwhile
PROMISED_SECONDS = 10.0  # writes are back within this long after the promotion


def multi_host(primary, standby):
    """Return libpq's multi-host URL naming the primary, then the standby, for read-write sessions only."""
    password = primary.server.password
    return (f"postgresql://postgres:{password}@127.0.0.1:{primary.server.port},127.0.0.1:{standby.port}"
            "/postgres?target_session_attrs=read-write")


class Load:
    """Writers and readers against the server until stopped; every answer kept with its time."""

    def __init__(self, server, manager, viewer):
        self.server, self.manager, self.viewer = server, manager, viewer
        self.writes, self.reads = [], []  # (monotonic time, status, name or path, Retry-After)
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._write, daemon=True) for _ in range(2)]
        self.threads += [threading.Thread(target=self._read, args=(path,), daemon=True)
                         for path in ("/api/customers?per_page=5", "/api/auth/me", "/api/jobs?per_page=5")]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)

    def _write(self):
        while not self.stopping.is_set():
            name = f"Failover {uuid.uuid4().hex[:12]}"
            try:
                status, headers, _ = self.server.request("POST", "/api/customers", {"name": name},
                                                         headers=self.manager, timeout=15)
            except OSError as exc:
                status, headers = f"error {type(exc).__name__}", {}
            self.writes.append((time.monotonic(), status, name, headers.get("Retry-After")))
            time.sleep(0.02)

    def _read(self, path):
        while not self.stopping.is_set():
            try:
                status, _, _ = self.server.request("GET", path, headers=self.viewer, timeout=15)
            except OSError as exc:
                status = f"error {type(exc).__name__}"
            self.reads.append((time.monotonic(), status, path, None))
            time.sleep(0.01)


def overdue_leaders(url):
    return execute(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND ((classid::bigint << 32) | objid::bigint) = %s", (LOCK_KEY,))[0][0]


@pytest.mark.parametrize("run", range(1, int(os.environ.get("FAILOVER_RUNS", "1")) + 1))  # 3: the measured gap
def test_a_promoted_standby_takes_over_within_seconds_and_nothing_acknowledged_is_lost(run, tmp_path):
    with primary_with_standby("printshop-failover-") as (primary, standby):
        url = multi_host(primary, standby)
        new_primary_url = standby.url("postgres")
        env = {"DATABASE_DIRECT_URL": url, "DATABASE_REPLICA_URLS": new_primary_url, "RATE_LIMITS_ENABLED": "false",
               "OVERDUE_CHECK_SECONDS": "0.5", "HEARTBEAT_SECONDS": "0.5", "DB_CONNECT_TIMEOUT": "2",
               "DB_POOL_TIMEOUT": "2", "SESSION_STATE_TTL_SECONDS": "0.5"}
        auth = AuthActions(build_app(primary.url), primary.url)
        manager, viewer, admin = auth.headers("manager"), auth.headers("viewer"), auth.headers("admin")
        with GunicornServer(url, workers=2, env=env, log_path=tmp_path / "gunicorn.log") as server:
            assert eventually(lambda: overdue_leaders(primary.url) == 1, timeout=10)
            each_worker_db_health(server, admin, until=lambda body: body["databases"][1]["state"] == "in_rotation")
            with Load(server, manager, viewer) as load:
                time.sleep(1.0)
                primary.stop()
                stopped_at = time.monotonic()
                time.sleep(DOWN_SECONDS)
                standby.promote()
                promoted_at = time.monotonic()
                back = eventually(lambda: any(t > promoted_at and s == 201 for t, s, _, _ in load.writes),
                                  timeout=PROMISED_SECONDS + 5, step=0.01)
                time.sleep(1.0)
            assert back, "no write accepted after the promotion"
            first_write = min(t for t, s, _, _ in load.writes if t > promoted_at and s == 201)
            gap = first_write - promoted_at

            # Reads never fail; writes are 201, or 503 with Retry-After while there is no primary.
            assert load.reads and {s for _, s, _, _ in load.reads} == {200}, sorted(
                {(p, s) for _, s, p, _ in load.reads if s != 200})
            refused = [(t, s, r) for t, s, _, r in load.writes if s != 201]
            assert all(s == 503 and r for _, s, r in refused), refused
            assert any(stopped_at < t < promoted_at for t, _, _ in refused), "no write was refused while down"
            late = [t - promoted_at for t, _, _ in refused if t > promoted_at + PROMISED_SECONDS]
            assert not late, f"writes still refused {late} s after the promotion"
            assert gap < PROMISED_SECONDS

            # Every acknowledged write is on the new primary.
            acknowledged = {name for _, s, name, _ in load.writes if s == 201}
            stored = {row[0] for row in execute(new_primary_url, "SELECT name FROM customers WHERE name LIKE "
                                                                 "'Failover %%'")}
            assert acknowledged <= stored, sorted(acknowledged - stored)[:5]

            # The scheduler's election moves to the new primary: one leader there.
            assert eventually(lambda: overdue_leaders(new_primary_url) == 1, timeout=10)

            # Every worker's listener is on the new primary again: a cache clear reaches each of them.
            cleared_at = datetime.now(UTC)
            assert server.request("POST", "/api/health/cache/clear", headers=admin)[0] == 200
            caches = each_worker_cache_stats(server, admin, until=lambda stats: (
                stats["listener"]["state"] == "listening" and stats["listener"]["last_delivery_at"]
                and datetime.fromisoformat(stats["listener"]["last_delivery_at"]) >= cleared_at))
            assert len(caches) == 2

            # A logout reaches every worker: after it, no worker honours the session's token.
            status, _, session = server.request("POST", "/api/auth/login", {"username": "admin", "password": "demo"})
            assert status == 200, session
            bearer = {"Authorization": f"Bearer {session['access_token']}"}
            each_worker_db_health(server, bearer)  # every worker has accepted it (and keeps that answer briefly)
            assert server.request("POST", "/api/auth/logout", headers=bearer)[0] == 200
            time.sleep(0.6)  # past SESSION_STATE_TTL_SECONDS
            answers = [server.request("GET", "/api/auth/me", headers=bearer)[0] for _ in range(20)]
            assert set(answers) == {401}, answers

            # The replica rotation: the promoted server is the primary now; what health says of it.
            health = each_worker_db_health(server, admin)
            states = sorted({tuple((d["name"], d["state"]) for d in body["databases"]) for body in health.values()})
            # The promoted standby answers as a primary: out of rotation ("promoted"), its reads on the primary.
            assert states == [(("primary", "up"), ("replica1", "promoted"))], states
            print_report(f"failover run {run}", {
                "promotion_to_first_write_s": round(gap, 3), "writes_refused": len(refused),
                "writes_acknowledged": len(acknowledged), "reads": len(load.reads), "databases": states})

        # `dashboard verify` is clean on the new primary.
        app = build_app(new_primary_url)
        try:
            result = app.test_cli_runner().invoke(args=["dashboard", "verify"])
        finally:
            close_resources(app)
        assert result.exit_code == 0 and "no drift" in result.output, result.output
