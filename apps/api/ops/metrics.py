"""Prometheus metrics, aggregated over every gunicorn worker (prometheus-client multi-process mode).

The request hook that counts and times each request lives in web/request_metrics.py.

gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers start;
without it (tests, flask run) the metrics are this process's own.
"""
from collections.abc import Mapping
from typing import Any

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


def count_rate_limited(rule: str) -> None:
    """Count one 429 answer for `rule`."""
    RATE_LIMITED.labels(rule=rule).inc()


def refresh_gauges(pool_stats: Mapping[str, Any] | None = None, cache_stats: Mapping[str, Any] | None = None,
                   listener_reconnects: int | None = None) -> None:
    """Copy this worker's pool and cache statistics into the gauges."""
    for name in POOL_STATS:
        if pool_stats and name in pool_stats:
            POOL.labels(stat=name).set(pool_stats[name])
    for name in CACHE_STATS:
        if cache_stats and name in cache_stats:
            CACHE.labels(stat=name).set(cache_stats[name])
    if listener_reconnects is not None:
        LISTENER_RECONNECTS.set(listener_reconnects)


def sources_of_stats() -> tuple[dict[str, Any] | None, dict[str, Any] | None, int | None]:
    """Return (pool stats, cache stats, listener reconnects) of this app in this worker, as far as they exist."""
    from .. import cache, db

    cache_stats = cache.cache_stats()
    reconnects = cache_stats["listener"]["reconnects"] if cache_stats else None
    return db.pool_stats(), cache_stats, reconnects


def exposition(multiprocess_dir: str) -> tuple[bytes, str]:
    """Return (body, content type) of every worker's metrics (`multiprocess_dir`: gunicorn's, or "")."""
    refresh_gauges(*sources_of_stats())
    if multiprocess_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
