"""gunicorn settings, read from the environment (every variable is in .env.production.template)."""
import os
import shutil
import sys
import tempfile
import time

from apps.api.config import default_workers

_env = os.environ.get
app_env = _env("APP_ENV", "development")

_host = _env("BIND", "127.0.0.1")
bind = f"{_host}:{_env('PORT', '5000')}"
workers = int(_env("WEB_CONCURRENCY") or default_workers())  # the app's connection advice uses the same default
worker_class = _env("GUNICORN_WORKER_CLASS", "gthread")
threads = int(_env("GUNICORN_THREADS", "4"))
timeout = int(_env("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(_env("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(_env("GUNICORN_KEEPALIVE", "5"))
# The peers whose X-Forwarded-* headers count, for gunicorn (wsgi.url_scheme) as for the app (apps/api/web/proxies.py).
# Unset means nobody (gunicorn's own default would trust loopback).
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "")
# Recycle workers now and then (memory fragmentation), staggered so they don't all restart at once.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(_env("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
# The app writes one JSON line per request itself (apps/api/web/request_log.py); gunicorn's access log is extra.
accesslog = _env("GUNICORN_ACCESS_LOG", "") or None
errorlog = "-"
# Never share the pool's sockets between workers: each worker opens its own pool and LISTEN
# connection after fork (post_worker_init below).
preload_app = False

# gunicorn's control socket lives at one fixed path per user; several instances on one host
# (tests, blue/green) would fight over it. Off unless GUNICORN_CONTROL_SOCKET names a path.
control_socket_disable = "GUNICORN_CONTROL_SOCKET" not in os.environ
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

# Prometheus multi-process mode: every worker writes its metrics into this directory and /metrics
# (answered by any worker) adds them up. Set before any worker imports prometheus_client.
if not _env("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="printshop-metrics-")
    _own_metrics_dir = True
else:
    _own_metrics_dir = False


# Seconds between SIGTERM and the graceful stop, while /api/health/ready answers 503 (see apps/api/ops/draining.py).
drain_seconds = float(_env("GRACEFUL_DRAIN_SECONDS", "0"))
os.environ["PRINTSHOP_DRAIN_FILE"] = os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "draining")


def _warn(message):
    print(f"[gunicorn.conf] WARNING: {message}", file=sys.stderr, flush=True)


def on_starting(server):
    """Check settings that would hurt under load, and start with an empty metrics directory."""
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(metrics_dir, exist_ok=True)
    for name in os.listdir(metrics_dir):
        os.remove(os.path.join(metrics_dir, name))  # also a drain marker left by a previous run
    pool_max = int(_env("DB_POOL_MAX_CONNECTIONS", "10"))
    per_worker = threads if worker_class == "gthread" else 1
    if pool_max < per_worker:
        _warn(f"DB_POOL_MAX_CONNECTIONS={pool_max} < {per_worker} threads per worker: requests will wait "
              "for connections; raise DB_POOL_MAX_CONNECTIONS or lower GUNICORN_THREADS")
    statement_timeout_s = int(_env("DB_STATEMENT_TIMEOUT_MS", "25000")) / 1000
    if statement_timeout_s >= timeout:
        _warn(f"DB_STATEMENT_TIMEOUT_MS ({statement_timeout_s:.0f} s) is not below GUNICORN_TIMEOUT ({timeout} s): "
              "a slow query gets the worker killed instead of a clean 503")
    if app_env == "development" and _host not in ("127.0.0.1", "localhost", "::1"):
        _warn(f"DEVELOPMENT MODE BOUND TO {_host}: demo users with the password 'demo' are reachable "
              "from the network. Use APP_ENV=production for anything but your own machine.")


def when_ready(server):
    """Make SIGTERM drain first: readiness 503 for `drain_seconds`, then the usual graceful stop."""
    graceful_stop = server.handle_term

    def handle_term():
        if drain_seconds > 0:
            open(os.environ["PRINTSHOP_DRAIN_FILE"], "w").close()
            server.log.info("draining for %.1f s before stopping (readiness is 503)", drain_seconds)
            time.sleep(drain_seconds)
        graceful_stop()

    server.handle_term = handle_term


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


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
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
