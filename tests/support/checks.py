"""What the reliability and security tests check afterwards: every worker's pool, and every table's rows."""
import time
from concurrent.futures import ThreadPoolExecutor

from psycopg2 import sql

# Tables whose rows a refused request may legitimately change: a refused login still counts against its
# rate limits (that is the point of them) and is recorded as a failed login.
COUNTERS_OF_REFUSALS = ("rate_limits", "failed_logins")
# The tests mint tokens by starting sessions (tests/support/auth.py AuthActions) while they watch the tables:
# of the sessions, only ended ones (and how they ended) count.
ENDED_SESSIONS = sql.SQL("(SELECT id, ended_reason FROM sessions WHERE ended_at IS NOT NULL)")


def each_worker(server, path, headers, pid_of, until=lambda body: True, timeout=15.0):
    """GET `path` from every worker of `server` until `until(body)` held once for each; return {pid: body}.

    `pid_of(body)` names the worker that answered. Concurrent requests on fresh connections spread over
    the workers (a busy worker leaves the next connection to the others); fail when one never answered so.
    """
    workers, seen, last = set(server.worker_pids()), {}, {}
    deadline = time.monotonic() + timeout
    while set(seen) != workers and time.monotonic() < deadline:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: server.request("GET", path, headers=headers), range(8)))
        for status, _, body in answers:
            if status != 200:
                continue
            pid = pid_of(body)
            last[pid] = body
            if until(body):
                seen[pid] = body
        if set(seen) != workers:
            time.sleep(0.1)
    assert set(seen) == workers, f"workers {sorted(workers - set(seen))} never answered as expected: {last}"
    return seen


def each_worker_db_health(server, headers, until=lambda body: True, timeout=15.0):
    """Return {worker pid: GET /api/health/db answer} once `until(answer)` held for every worker."""
    return each_worker(server, "/api/health/db", headers, lambda body: body["pool_stats"]["pid"], until, timeout)


def each_worker_cache_stats(server, headers, prefix="", until=lambda stats: True, timeout=15.0):
    """Return {worker pid: its cache statistics for keys under `prefix`} once `until(stats)` held for every worker."""
    answers = each_worker(server, f"/api/health/cache?prefix={prefix}", headers,
                          lambda body: body["cache_stats"]["pid"], lambda body: until(body["cache_stats"]), timeout)
    return {pid: body["cache_stats"] for pid, body in answers.items()}


def pool_idle(body):
    """Tell whether a GET /api/health/db answer shows no connection lent out and nobody waiting."""
    stats = body["pool_stats"]
    return stats["in_use"] == 0 and stats["requests_waiting"] == 0


def fingerprint(conn, exclude=COUNTERS_OF_REFUSALS):
    """Return {table: (row count, md5 of its rows in a fixed order)} for every table of the public schema."""
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cur.fetchall() if row[0] not in exclude]
        # One statement for all tables: one round trip, one snapshot.
        cur.execute(sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) "
                    "FROM {} AS t").format(sql.Literal(table),
                                          ENDED_SESSIONS if table == "sessions" else sql.Identifier(table))
            for table in tables))
        return {table: (count, digest) for table, count, digest in cur.fetchall()}


def changed_tables(before, after):
    """Return the tables whose fingerprint differs."""
    return sorted(table for table in set(before) | set(after) if before.get(table) != after.get(table))
