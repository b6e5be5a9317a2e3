"""The hot path as a newcomer measures it: `make run`'s server against the bare framework, server CPU per request.

`make run` is started as it is by hand (its own entry point, `.env.dev`'s WEB_CONCURRENCY and threads,
APP_ENV=development, the JSON request log on and written to make run's output, here a log file), a
viewer logs in, and wrk (16 connections) alternates between it and bench/bare_app.py under the same
gunicorn settings, the order rotated each round. The ratio is taken within each round (back to back).
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

from bench.cpu import alternating, bare_server
from bench.harness import ROOT, say
from tests.support.gunicorn import http_request

# Settings a developer's shell may carry that `make run` would otherwise take from .env.dev or its defaults.
_NOT_INHERITED = ("APP_ENV", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_WORKER_CLASS", "LOG_LEVEL",
                  "PROMETHEUS_MULTIPROC_DIR", "CACHE_TTL_STATS", "RATE_LIMITS_ENABLED", "DB_POOL_MAX_CONNECTIONS")
ROUTES = ("/api/dashboard/stats", "/api/health")


class MakeRunServer:
    """`make run` (python -m apps.api.tools.boot) against an existing database, its output in `log_path`."""

    def __init__(self, database_url, secret, log_path):
        self.database_url, self.secret, self.log_path = database_url, secret, log_path
        self.process = self.master = None
        self.port = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=90):
        """Start make run's entry point on a free port; wait until it answers /api/health."""
        from apps.api.tools.embedded_pg import free_port

        self.port = free_port()
        env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
        # The same secret as the bare app, so one token is valid on both (make run would generate one).
        # APP_ENV said out loud, as make run asks for with a DATABASE_URL of its own (development: .env.dev).
        env.update(DATABASE_URL=self.database_url, PORT=str(self.port), JWT_SECRET_KEY=self.secret,
                   APP_ENV="development")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "apps.api.tools.boot"], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make run exited with {self.process.returncode}: see {self.log_path}")
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    self.master = self._gunicorn_master()
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"make run did not answer in time: see {self.log_path}")

    def _gunicorn_master(self):
        for child in psutil.Process(self.process.pid).children():
            if "gunicorn" in " ".join(child.cmdline()):
                return child.pid
        raise RuntimeError("make run started no gunicorn")

    def worker_pids(self):
        """Return the gunicorn workers' pids."""
        return sorted(child.pid for child in psutil.Process(self.master).children())

    def request(self, method, path, body=None, headers=None):
        """Send one request; return (status, headers, body)."""
        return http_request(self.base_url, method, path, body, headers)

    def stop(self):
        """Stop make run as Ctrl-C would (it stops gunicorn first)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


@contextmanager
def make_run(database_url, secret, log_path):
    """Run `make run`'s server; yield it."""
    server = MakeRunServer(database_url, secret, log_path).start()
    try:
        yield server
    finally:
        server.stop()


def viewer_token(server):
    """Log in as the seed's viewer; return the Authorization header."""
    status, _, body = server.request("POST", "/api/auth/login", {"username": "viewer", "password": "demo"})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return {"Authorization": f"Bearer {body['access_token']}"}


def measure(database_url, secret, seconds, rounds, log_dir=None):
    """Measure make run's cached stats and health against the bare app; return the samples and the log's bytes."""
    import json

    own_dir = log_dir is None
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="printshop-hot-path-"))
    log_path = log_dir / "make-run.log"
    with make_run(database_url, secret, log_path) as server:
        headers = viewer_token(server)
        status, _, body = server.request("GET", "/api/dashboard/stats", headers=headers)
        if status != 200:
            raise RuntimeError(f"stats answered {status}")
        with bare_server(secret, json.dumps(body).encode()) as bare:
            targets = {"bare": (bare.base_url + "/api/dashboard/stats", bare.process.pid)}
            targets.update({route: (server.base_url + route, server.master) for route in ROUTES})
            samples = alternating(targets, headers, seconds, rounds)
    log_bytes = log_path.stat().st_size
    if own_dir:
        shutil.rmtree(log_dir, ignore_errors=True)
    for name, runs in samples.items():
        if any(run["errors"] for run in runs):
            say(f"hot path: {name} had errors: {[run['errors'] for run in runs]}")
    return samples, log_bytes


def row(samples, log_bytes):
    """Return the bench table's row for the hot path (server CPU per request, ratio per round)."""
    ratios = [top["cpu_us"] / bottom["cpu_us"] for top, bottom in zip(samples["/api/dashboard/stats"], samples["bare"])]
    cpu = {name: [run["cpu_us"] for run in runs] for name, runs in samples.items()}
    rps = {name: statistics.median(run["rps"] for run in runs) for name, runs in samples.items()}
    summary = {name: (statistics.median(values), min(values), max(values)) for name, values in cpu.items()}
    requests = sum(run["requests"] for runs in samples.values() for run in runs)
    median = statistics.median(ratios)
    note = (f"make run's defaults (2 workers x 4 threads, logs on: {log_bytes / max(requests, 1):.0f} bytes "
            f"of log per request to a file), viewer token, wrk 16 connections, {len(ratios)} rounds rotated; "
            f"cached = {median:.2f}x the bare CPU (per round {min(ratios):.2f}-{max(ratios):.2f}); "
            f"/api/health {summary['/api/health'][0]:.0f} µs; req/s bare {rps['bare']:,.0f}, "
            f"cached {rps['/api/dashboard/stats']:,.0f}")
    return {"pair": "cache hit vs bare framework, as make run serves it (server CPU)",
            "what": "bare Flask + flask-jwt-extended vs cached /api/dashboard/stats, CPU µs per request",
            "naive": summary["bare"], "optimised": summary["/api/dashboard/stats"], "unit": "us",
            "ratio": f"{1 / median:.2f}x", "goal": "cached <= 1.05x the bare CPU", "note": note,
            "raw_ratio": median}


def main(argv=None):
    """Measure alone on 10,000 jobs of its own database; print the row's note (ratio, rounds, req/s).

        .venv/bin/python -m bench.hot_path [seconds per run, 5] [rounds, 5]
    """
    from bench.harness import database_server, seeded_database
    from bench.http_pairs import SECRET

    given = [int(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    seconds, rounds = (given + [5, 5][len(given):])[:2]
    with database_server() as server_url:
        url, _ = seeded_database(server_url, "bench_hot_path", 10_000)
        print(row(*measure(url, SECRET, seconds, rounds))["note"])


if __name__ == "__main__":
    main()
