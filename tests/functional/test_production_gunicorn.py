"""Production behaviour under a real gunicorn: graceful stop, worker replacement, metrics, limits, logs."""
import json
import os
import signal
import threading
import time

import pytest

from tests.support.gunicorn import GunicornServer

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]


def test_sigterm_under_load_loses_no_request(database_url):
    """SIGTERM: readiness turns 503 (drain), the 'balancer' stops routing, in-flight requests finish."""
    server = GunicornServer(database_url, workers=2, env={"GRACEFUL_DRAIN_SECONDS": "1.5"}).start()
    routing, stop, results = threading.Event(), threading.Event(), []
    routing.set()

    def balancer():
        # Like a load balancer's health check: stop routing once readiness fails.
        while not stop.is_set():
            try:
                if server.request("GET", "/api/health/ready", timeout=5)[0] != 200:
                    routing.clear()
                    return
            except OSError:
                routing.clear()
                return
            time.sleep(0.1)

    def client():
        while routing.is_set():
            try:
                results.append(server.request("GET", "/api/auth/me", timeout=10)[0])
            except OSError as exc:
                results.append(repr(getattr(exc, "reason", exc)))

    threads = [threading.Thread(target=balancer)] + [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    sent_before_term = len(results)
    server.signal(signal.SIGTERM)
    server.process.wait(30)
    stop.set()
    for thread in threads:
        thread.join(15)
    assert sent_before_term > 20, "the load really ran"
    assert len(results) > sent_before_term, "requests kept being served while draining"
    failures = [r for r in results if r != 401]  # /me without a token: 401 from a live worker
    assert failures == [], f"{len(failures)} of {len(results)} requests failed around SIGTERM"
    assert server.process.returncode == 0


def test_killed_worker_is_replaced_and_serves(database_url):
    with GunicornServer(database_url, workers=2) as server:
        before = server.worker_pids()
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = server.worker_pids()
            if len(now) == 2 and before[0] not in now:
                break
            time.sleep(0.2)
        assert len(server.worker_pids()) == 2 and before[0] not in server.worker_pids()
        assert all(server.request("GET", "/api/health/ready")[0] == 200 for _ in range(10))


def test_metrics_aggregate_over_workers(database_url):
    with GunicornServer(database_url, workers=3) as server:
        for _ in range(60):
            server.request("GET", "/api/health")
        # Each scrape may be answered by a different worker; each must count all 60 requests,
        # although any one worker served only part of them.
        totals = []
        for _ in range(6):
            _, _, text = server.request("GET", "/metrics")
            line = [row for row in text.splitlines()
                    if row.startswith('http_requests_total{method="GET",route="/api/health",status="200"}')]
            assert line, text[:2000]
            totals.append(float(line[0].rsplit(" ", 1)[1]))
        # 60 plus the start-up probes of GunicornServer.start(), the same from every worker.
        assert len(set(totals)) == 1 and 60 <= totals[0] <= 70, totals


def test_rate_limit_holds_across_workers(database_url):
    env = {"RATE_LIMIT_LOGIN_USER": "5/300"}
    with GunicornServer(database_url, workers=3, env=env) as server:
        statuses = [server.request("POST", "/api/auth/login", {"username": "manager", "password": "bad"})[0]
                    for _ in range(9)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 4


def test_logs_are_json_lines_with_the_request_id(database_url, tmp_path):
    log_path = tmp_path / "gunicorn.log"
    with GunicornServer(database_url, workers=2, log_path=log_path) as server:
        status, headers, _ = server.request("GET", "/api/health", headers={"X-Request-ID": "trace-abc-1"})
        assert status == 200 and headers["X-Request-ID"] == "trace-abc-1"
        server.request("POST", "/api/auth/login", {"username": "admin", "password": "hunter2-secret"})
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]  # every JSON-looking line parses
    ours = [r for r in records if r.get("request_id") == "trace-abc-1"]
    assert ours and ours[0]["route"] == "/api/health" and ours[0]["status"] == 200
    assert "duration_ms" in ours[0] and "pid" in ours[0]
    assert "hunter2-secret" not in log_path.read_text()


def test_production_refuses_weak_secret_under_gunicorn(database_url, tmp_path):
    log_path = tmp_path / "gunicorn.log"
    server = GunicornServer(database_url, workers=1, log_path=log_path,
                            env={"APP_ENV": "production", "JWT_SECRET_KEY": "too-short"})
    with pytest.raises(RuntimeError):
        server.start(timeout=20)
    server.stop()
    assert "JWT_SECRET_KEY is 9 bytes; it needs at least 32" in log_path.read_text()


def test_sighup_reloads_workers_and_keeps_serving(database_url):
    with GunicornServer(database_url, workers=2) as server:
        before = set(server.worker_pids())
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = set(server.worker_pids())
            if len(now) == 2 and not now & before:
                break
            time.sleep(0.2)
        assert len(server.worker_pids()) == 2 and not set(server.worker_pids()) & before, "new workers"
        assert all(server.request("GET", "/api/health/ready")[0] == 200 for _ in range(10))
        assert server.process.poll() is None, "the master stays up"
