"""Run the real service under a real gunicorn for multi-process tests."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from apps.api.config import PROJECT_ROOT
from apps.api.tools.embedded_pg import free_port
from tests.support.auth import TEST_SECRET


class GunicornServer:
    """A gunicorn master with `workers` workers serving the app against `database_url`."""

    def __init__(self, database_url, workers=2, threads=4, env=None, log_path=None):
        self.database_url = database_url
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.extra_env = env or {}
        self.log_path = log_path
        self.process = None
        self._log = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        """Start gunicorn and wait until every worker can answer /api/health."""
        env = dict(os.environ, APP_ENV="test", DATABASE_URL=self.database_url, JWT_SECRET_KEY=TEST_SECRET,
                   PORT=str(self.port), BIND="127.0.0.1", WEB_CONCURRENCY=str(self.workers),
                   GUNICORN_THREADS=str(self.threads), GUNICORN_ACCESS_LOG="", PYTHONUNBUFFERED="1")
        env.update(self.extra_env)
        self._log = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
             "apps.api:create_app()"],
            cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer in time")

    def request(self, method, path, body=None, headers=None, timeout=10):
        """Send one request; return (status, headers, parsed JSON body or raw text)."""
        return http_request(self.base_url, method, path, body, headers, timeout)

    def worker_pids(self):
        """Return the pids of the master's current worker processes."""
        import psutil

        return sorted(child.pid for child in psutil.Process(self.process.pid).children())

    def signal(self, signum):
        self.process.send_signal(signum)

    def stop(self, timeout=30):
        """Stop gunicorn gracefully (SIGTERM), killing it after `timeout` seconds."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def http_request(base_url, method, path, body=None, headers=None, timeout=10):
    """Send one request to `base_url` + `path`; return (status, headers, parsed JSON body or raw text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), _decode(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), _decode(error.read())


def _decode(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def page_server(database_url):
    """Return a gunicorn for the page's browser tests: 2 workers of 4 threads, no rate limits (a test logs in
    often) and no overdue sweeps (their notices would race a test's clicks)."""
    return GunicornServer(database_url, workers=2, threads=4,
                          env={"RATE_LIMITS_ENABLED": "false", "OVERDUE_CHECK_SECONDS": "0"})
