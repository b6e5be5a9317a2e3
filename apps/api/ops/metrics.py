"""Prometheus metrics, aggregated over every gunicorn worker (prometheus-client multi-process mode).

gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers start;
without it (tests, flask run) the metrics are this process's own.
"""
import threading
import time

from flask import current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RATE_LIMITED = Counter("rate_limit_rejections_total", "Requests refused with 429", ["rule"])
# Per-worker numbers summed over the live workers.
POOL = Gauge("db_pool", "Connection pool statistics (summed over live workers)", ["stat"],
             multiprocess_mode="livesum")
CACHE = Gauge("cache", "Per-user cache statistics (summed over live workers)", ["stat"],
              multiprocess_mode="livesum")
LISTENER_RECONNECTS = Gauge("cache_listener_reconnects", "LISTEN connection reconnects (summed over live workers)",
                            multiprocess_mode="livesum")

POOL_STATS = ("pool_size", "pool_available", "requests_waiting", "requests_num", "requests_queued",
              "requests_wait_ms", "requests_errors", "connections_num", "connections_errors",
              "connections_lost", "returns_bad", "leaks_detected")
CACHE_STATS = ("hits", "misses", "evictions", "total_entries")
REFRESH_SECONDS = 1.0
EXTENSION = "request_metrics"
_last_refresh = [0.0]
_refresh_lock = threading.Lock()


def count_rate_limited(rule):
    """Count one 429 answer for `rule`."""
    RATE_LIMITED.labels(rule=rule).inc()


def refresh_gauges(pool_stats=None, cache_stats=None, listener_reconnects=None):
    """Copy this worker's pool and cache statistics into the gauges."""
    for name in POOL_STATS:
        if pool_stats and name in pool_stats:
            POOL.labels(stat=name).set(pool_stats[name])
    for name in CACHE_STATS:
        if cache_stats and name in cache_stats:
            CACHE.labels(stat=name).set(cache_stats[name])
    if listener_reconnects is not None:
        LISTENER_RECONNECTS.set(listener_reconnects)


def _sources_of_stats():
    """Return (pool stats, cache stats, listener reconnects) of this app in this worker, as far as they exist."""
    from .. import cache, db

    cache_stats = cache.cache_stats()
    reconnects = cache_stats["listener"]["reconnects"] if cache_stats else None
    return db.pool_stats(), cache_stats, reconnects


# Label values come only from fixed sets, so no client can add series: a made-up method counts as
# "other" and a path outside the URL map as "unmatched" (each label set is a series kept for ever).
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
OTHER_METHOD = "other"
UNMATCHED_ROUTE = "unmatched"


class RequestMetrics:
    """One app's request counter and latency children, made once per (method, route, status) and kept."""

    def __init__(self):
        self.children = {}  # bounded: METHODS + other, the URL map's rules + unmatched, the app's statuses

    def children_for(self, method, route, status):
        """Return the (latency, counter) children of this label set, creating them on first use."""
        key = (method, route, status)
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = (LATENCY.labels(method, route), REQUESTS.labels(method, route, str(status)))
        return found


def _observe(response):
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
            refresh_gauges(*_sources_of_stats())
        finally:
            _refresh_lock.release()
    return response


def exposition(multiprocess_dir):
    """Return (body, content type) of every worker's metrics (`multiprocess_dir`: gunicorn's, or "")."""
    refresh_gauges(*_sources_of_stats())
    if multiprocess_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def init_app(app):
    """Count and time every request of `app`."""
    app.extensions[EXTENSION] = RequestMetrics()
    app.after_request(_observe)
