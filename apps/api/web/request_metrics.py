"""The request hook that counts and times each answered request in the Prometheus metrics (ops/metrics.py)."""
import threading
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import Counter, Histogram

from ..ops.metrics import LATENCY, REFRESH_SECONDS, REQUESTS, refresh_gauges, sources_of_stats

EXTENSION = "request_metrics"
_last_refresh = [0.0]
_refresh_lock = threading.Lock()

# Label values come only from fixed sets, so no client can add series: a made-up method counts as
# "other" and a path outside the URL map as "unmatched" (each label set is a series kept for ever).
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
OTHER_METHOD = "other"
UNMATCHED_ROUTE = "unmatched"


class RequestMetrics:
    """One app's request counter and latency children, made once per (method, route, status) and kept."""

    def __init__(self) -> None:
        # bounded: METHODS + other, the URL map's rules + unmatched, the app's statuses
        self.children: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}

    def children_for(self, method: str, route: str, status: int) -> tuple[Histogram, Counter]:
        """Return the (latency, counter) children of this label set, creating them on first use."""
        key = (method, route, status)
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = (LATENCY.labels(method, route), REQUESTS.labels(method, route, str(status)))
        return found


def observe(response: Response) -> Response:
    """Count and time the request `response` answers; refresh the pool and cache gauges now and then."""
    method = request.method
    if method not in METHODS:
        method = OTHER_METHOD  # the key too: made-up methods never grow the dictionary either
    rule = request.url_rule  # a rule of the URL map, or None: never the client's path
    route = rule.rule if rule is not None else UNMATCHED_ROUTE
    latency, count = current_app.extensions[EXTENSION].children_for(method, route, response.status_code)
    started = g.get("request_started")
    if started is not None:
        latency.observe(time.perf_counter() - started)
    count.inc()
    now = time.monotonic()
    if now - _last_refresh[0] >= REFRESH_SECONDS and _refresh_lock.acquire(blocking=False):
        try:
            _last_refresh[0] = now
            refresh_gauges(*sources_of_stats())
        finally:
            _refresh_lock.release()
    return response


def init_app(app: Flask) -> None:
    """Count and time every request of `app`."""
    app.extensions[EXTENSION] = RequestMetrics()
    app.after_request(observe)
