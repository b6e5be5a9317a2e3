"""gunicorn settings, taken from the app's Config (every variable is in .env.production.template).

Nothing here reads or writes the environment itself: Config reads it (with .env.dev under it in development),
and the two paths the workers need from this master (the metrics directory, which prometheus_client reads
from its environment variable, and the drain marker) are handed to them through gunicorn's own `raw_env`.
"""
import os
import shutil
import sys
import time

from apps.api.config import Config, environment, own_metrics_dir

settings = Config.from_env(environment())
app_env = settings.APP_ENV

bind = f"{settings.BIND}:{settings.PORT}"
workers = settings.workers  # the app's connection advice uses the same default
worker_class = settings.GUNICORN_WORKER_CLASS
threads = settings.GUNICORN_THREADS
timeout = settings.GUNICORN_TIMEOUT
graceful_timeout = settings.GUNICORN_GRACEFUL_TIMEOUT
keepalive = settings.GUNICORN_KEEPALIVE
# The peers whose X-Forwarded-* headers count, for gunicorn (wsgi.url_scheme) as for the app (apps/api/web/proxies.py).
# Unset means nobody (gunicorn's own default would trust loopback).
forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS
# Recycle workers now and then (memory fragmentation), staggered so they don't all restart at once.
max_requests = settings.GUNICORN_MAX_REQUESTS
max_requests_jitter = settings.GUNICORN_MAX_REQUESTS_JITTER
# The app writes one JSON line per request itself (apps/api/web/request_log.py); gunicorn's access log is extra.
accesslog = settings.GUNICORN_ACCESS_LOG or None
errorlog = "-"
# Never share the pool's sockets between workers: each worker opens its own pool and LISTEN
# connection after fork (post_worker_init below).
preload_app = False

# gunicorn's control socket lives at one fixed path per user; several instances on one host
# (tests, blue/green) would fight over it. Off unless GUNICORN_CONTROL_SOCKET names a path.
control_socket_disable = not settings.GUNICORN_CONTROL_SOCKET
if not control_socket_disable:
    control_socket = settings.GUNICORN_CONTROL_SOCKET

# Prometheus multi-process mode: every worker writes its metrics into this directory and /metrics
# (answered by any worker) adds them up. Given to the workers before any of them imports prometheus_client.
_own_metrics_dir = not settings.PROMETHEUS_MULTIPROC_DIR
metrics_dir = settings.PROMETHEUS_MULTIPROC_DIR or own_metrics_dir()
# Seconds between SIGTERM and the graceful stop, while /api/health/ready answers 503 (see apps/api/ops/draining.py).
drain_seconds = settings.GRACEFUL_DRAIN_SECONDS
drain_file = os.path.join(metrics_dir, "draining")
raw_env = [f"PROMETHEUS_MULTIPROC_DIR={metrics_dir}", f"PRINTSHOP_DRAIN_FILE={drain_file}"]


def _warn(message):
    print(f"[gunicorn.conf] WARNING: {message}", file=sys.stderr, flush=True)


def on_starting(server):
    """Check settings that would hurt under load, and start with an empty metrics directory."""
    os.makedirs(metrics_dir, exist_ok=True)
    for name in os.listdir(metrics_dir):
        os.remove(os.path.join(metrics_dir, name))  # also a drain marker left by a previous run
    pool_max = settings.DB_POOL_MAX_CONNECTIONS
    per_worker = threads if worker_class == "gthread" else 1
    if pool_max < per_worker:
        _warn(f"DB_POOL_MAX_CONNECTIONS={pool_max} < {per_worker} threads per worker: requests will wait "
              "for connections; raise DB_POOL_MAX_CONNECTIONS or lower GUNICORN_THREADS")
    statement_timeout_s = settings.DB_STATEMENT_TIMEOUT_MS / 1000
    if statement_timeout_s >= timeout:
        _warn(f"DB_STATEMENT_TIMEOUT_MS ({statement_timeout_s:.0f} s) is not below GUNICORN_TIMEOUT ({timeout} s): "
              "a slow query gets the worker killed instead of a clean 503")
    if app_env == "development" and settings.BIND not in ("127.0.0.1", "localhost", "::1"):
        _warn(f"DEVELOPMENT MODE BOUND TO {settings.BIND}: demo users with the password 'demo' are reachable "
              "from the network. Use APP_ENV=production for anything but your own machine.")


def when_ready(server):
    """Make SIGTERM drain first: readiness 503 for `drain_seconds`, then the usual graceful stop."""
    graceful_stop = server.handle_term

    def handle_term():
        if drain_seconds > 0:
            open(drain_file, "w").close()
            server.log.info("draining for %.1f s before stopping (readiness is 503)", drain_seconds)
            time.sleep(drain_seconds)
        graceful_stop()

    server.handle_term = handle_term


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, metrics_dir)


def post_worker_init(worker):
    """Open the app's pool and start its cache (LISTEN) before the worker's first request."""
    from apps.api import open_resources

    open_resources(worker.wsgi)


def worker_exit(server, worker):
    """Close the app's pool and LISTEN connection in this worker before it exits."""
    from apps.api import close_resources

    if getattr(worker, "wsgi", None) is not None:
        close_resources(worker.wsgi)


def on_exit(server):
    """Remove the metrics directory this config created."""
    if _own_metrics_dir:
        shutil.rmtree(metrics_dir, ignore_errors=True)
