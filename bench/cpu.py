"""Server CPU per request: the CPU time of a gunicorn master and all its workers, reaped ones included."""
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psutil

from bench.harness import wrk

BENCH_DIR = Path(__file__).resolve().parent


def server_cpu_seconds(master_pid):
    """Return the CPU seconds used so far by the gunicorn master `master_pid` and its workers.

    Live workers are read from /proc (psutil); a worker that exited (max_requests recycles them) was
    reaped by the master, so its time is in the master's children_user/children_system (wait4 rusage).
    """
    master = psutil.Process(master_pid)
    times = master.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for worker in master.children():
        try:
            worker_times = worker.cpu_times()
        except psutil.NoSuchProcess:  # exited between the listing and the read: reaped, counted above next time
            continue
        total += worker_times.user + worker_times.system
    return total


def measured_wrk(server_pid, url, seconds, headers, connections=16):
    """Run wrk on `url`; return its result with "cpu_us" (server CPU microseconds per request) added."""
    before = server_cpu_seconds(server_pid)
    result = wrk(url, seconds=seconds, connections=connections, headers=headers)
    result["cpu_us"] = (server_cpu_seconds(server_pid) - before) * 1e6 / max(result["requests"], 1)
    return result


class BareServer:
    """bench/bare_app.py under gunicorn with the project's worker settings (gthread, threads, keepalive)."""

    def __init__(self, secret, body, workers=2, threads=4):
        self.secret, self.body, self.workers, self.threads = secret, body, workers, threads
        self.process = None
        self.port = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=60):
        """Start gunicorn on a free port and wait until a worker answers (401: no token)."""
        from apps.api.tools.embedded_pg import free_port

        self.port = free_port()
        body_file = tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False)
        body_file.write(self.body)
        body_file.close()
        self._body_path = body_file.name
        env = dict(os.environ, JWT_SECRET_KEY=self.secret, BARE_APP_BODY=self._body_path)
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{self.port}", "-w", str(self.workers),
             "-k", "gthread", "--threads", str(self.threads), "--keep-alive", "5", "--max-requests", "10000",
             "--max-requests-jitter", "1000", "--no-control-socket", "--chdir", str(BENCH_DIR), "bare_app:app"],
            cwd=BENCH_DIR, env=env, stdout=subprocess.DEVNULL, stderr=self._log)  # cwd: not our gunicorn.conf.py
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base_url + "/api/dashboard/stats", timeout=2)
            except urllib.error.HTTPError as error:
                if error.code == 401:  # a worker answers (no token)
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self._log.seek(0)
        raise RuntimeError(f"the bare app did not start: {self._log.read()[-2000:].decode(errors='replace')}")

    def stop(self):
        """Stop the bare app and remove its body file."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        os.unlink(self._body_path)


@contextmanager
def bare_server(secret, body):
    """Run the bare app; yield the server."""
    server = BareServer(secret, body).start()
    try:
        yield server
    finally:
        server.stop()


def alternating(targets, headers, seconds, rounds):
    """Run wrk once per target per round, the order rotated each round; return {target: [results]}.

    `targets` maps a name to (URL, gunicorn master pid); each result carries req/s and "cpu_us", the
    server CPU per request. Pairs are compared within a round (back to back), not across rounds.
    """
    names = list(targets)
    samples = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            target_url, pid = targets[name]
            samples[name].append(measured_wrk(pid, target_url, seconds, headers))
    return samples
