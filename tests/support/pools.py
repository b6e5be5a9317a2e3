"""Connection pools built by hand for the pool tests, and what their statistics must name."""
from contextlib import contextmanager

from apps.api.db.pool import ConnectionPool

# psycopg_pool's statistic names, which ConnectionPool.stats() reports too, and the ones it adds.
PSYCOPG_POOL_STATS = (
    "pool_min", "pool_max", "pool_size", "pool_available", "requests_waiting", "requests_num",
    "requests_queued", "requests_wait_ms", "requests_errors", "usage_ms", "returns_bad", "connections_num",
    "connections_ms", "connections_errors", "connections_lost")
EXTRA_STATS = ("requests_wait_max_ms", "acquire_ms_p50", "acquire_ms_p95", "acquire_ms_p99", "leaks_detected",
               "pid", "age_s")


@contextmanager
def pool_maker(database_url, **defaults):
    """Yield make(**kwargs) building pools on `database_url` (`defaults` unless told); close them all after."""
    pools = []

    def make(**kwargs):
        pools.append(ConnectionPool(kwargs.pop("dsn", database_url), **{**defaults, **kwargs}))
        return pools[-1]

    try:
        yield make
    finally:
        for pool in pools:
            pool.close()


def backend_pid(conn):
    """Return the server process id behind `conn`, leaving no transaction open."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (pid,) = cur.fetchone()
    conn.rollback()
    return pid
