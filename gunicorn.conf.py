"""gunicorn settings, read from the environment (see .env.production.template)."""
import multiprocessing
import os

_host = os.environ.get("BIND", "127.0.0.1")
bind = f"{_host}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"
# Never share the pool's sockets between workers: each worker opens its own after fork.
preload_app = False


def worker_exit(server, worker):
    """Close this worker's database pools before it exits."""
    from apps.api.db import close_all_pools

    close_all_pools()

# gunicorn's control socket lives at one fixed path per user; several instances on one host
# (tests, blue/green) would fight over it. Off unless GUNICORN_CONTROL_SOCKET names a path.
control_socket_disable = "GUNICORN_CONTROL_SOCKET" not in os.environ
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
