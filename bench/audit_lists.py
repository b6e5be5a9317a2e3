"""The audit list and the notifications list at two sizes of history (issue 21): does a page cost the same?

The audit log is partitioned by month (migrations/0080): a page newest first merges the months' indexes.
Each size is its own database: a small seed of jobs, then `rows` audit rows spread over the last 13 months
(one partition each, as the scheduler would have made them) and rows / 10 notifications, half of them the
admin's (90 % read). Timed like bench/list_pairs.py: the real endpoint in-process, its Server-Timing `db`.

    .venv/bin/python -m bench.audit_lists --rows 10000000     # alone; `make bench` runs it too
"""
import argparse
import re
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import psycopg2

from bench.harness import create_database, database_server, ms, say, seeded_database

SERVER_TIMING_DB = re.compile(r"db;dur=([\d.]+)")
MONTHS = 13
CHUNK_ROWS = 1_000_000
PER_PAGE = 20
DEEP_PAGES = 100  # a cursor walk of 100 pages of 100: the page at row 10,000
CASES = [
    ("audit, first page", "/api/audit-logs", {}),
    ("audit ?entity=jobs&entity_id=", "/api/audit-logs", {"entity": "jobs", "entity_id": "ENTITY"}),
    ("audit ?user_id=", "/api/audit-logs", {"user_id": "ADMIN"}),
    ("audit, cursor at row 10,000", "/api/audit-logs", {"deep": True}),
    ("audit, one row by id", "/api/audit-logs/ID", {}),
    ("notifications, first page", "/api/notifications", {}),
    ("notifications ?unread=true", "/api/notifications", {"unread": "true"}),
    ("notifications, cursor at row 10,000", "/api/notifications", {"deep": True}),
]


def fill_history(url, rows):
    """Add `rows` audit rows over the last MONTHS months and rows / 10 notifications, unless already there."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) >= %s FROM (SELECT 1 FROM audit_logs LIMIT %s) a", (rows, rows))
        if cur.fetchone()[0]:
            conn.close()
            return
        say(f"adding {rows:,} audit rows and {rows // 10:,} notifications")
        cur.execute("SELECT audit_logs_add_month(now() - make_interval(months => m)) "
                    "FROM generate_series(0, %s) m", (MONTHS,))
        cur.execute("SELECT array_agg(id ORDER BY id) FROM users")
        users = cur.fetchone()[0]
        for start in range(0, rows, CHUNK_ROWS):
            count = min(CHUNK_ROWS, rows - start)
            # Oldest first, as they were written: g-th row at a fixed step back from now.
            cur.execute(
                "INSERT INTO audit_logs (user_id, action, entity, entity_id, changes, created_at) "
                "SELECT (%(users)s::bigint[])[1 + g %% cardinality(%(users)s::bigint[])], "
                "       (ARRAY['update','update','update','create','delete'])[1 + g %% 5], "
                "       (ARRAY['jobs','jobs','jobs','customers','users'])[1 + (g / 5) %% 5], g %% 100000, "
                "       jsonb_build_object('status', 'active'), "
                "       now() - make_interval(days => %(months)s * 30) "
                "             + make_interval(secs => g * (%(months)s * 30 * 86400.0 / %(rows)s)) "
                "FROM generate_series(%(first)s, %(last)s) g",
                {"users": users, "months": MONTHS, "rows": rows, "first": start + 1, "last": start + count})
        cur.execute("INSERT INTO notifications (user_id, kind, message, is_read, created_at) "
                    "SELECT CASE WHEN g %% 2 = 0 THEN (SELECT id FROM users WHERE username = 'admin') "
                    "            ELSE (%(users)s::bigint[])[1 + g %% cardinality(%(users)s::bigint[])] END, "
                    "       'system', 'note ' || g, g %% 10 <> 0, "
                    "       now() - make_interval(secs => (%(n)s - g) * 60) "
                    "FROM generate_series(1, %(n)s) g", {"users": users, "n": rows // 10})
        cur.execute("VACUUM ANALYZE audit_logs")
        cur.execute("VACUUM ANALYZE notifications")
    conn.close()


def _app(url):
    from apps.api import create_app

    return create_app({"APP_ENV": "test", "DATABASE_URL": url, "RATE_LIMITS_ENABLED": False,
                       "JWT_SECRET_KEY": secrets.token_urlsafe(48), "LOG_LEVEL": "WARNING"})


def _db_ms(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return float(SERVER_TIMING_DB.search(response.headers["Server-Timing"]).group(1))


def _deep_cursor(client, headers, path):
    """Walk DEEP_PAGES pages of 100 and return the cursor of the next one."""
    cursor = None
    for _ in range(DEEP_PAGES):
        args = {"per_page": 100, **({"cursor": cursor} if cursor else {})}
        cursor = client.get(path, query_string=args, headers=headers).get_json()["pagination"]["next_cursor"]
    return cursor


def measure_size(url, repeat):
    """Return {label: median db ms} for every case on the database of `url`."""
    from apps.api import close_resources

    app = _app(url)
    client = app.test_client()
    token = client.post("/api/auth/login", json={"username": "admin", "password": "demo"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE username = 'admin'")
        admin = cur.fetchone()[0]
        cur.execute("SELECT id, entity_id FROM audit_logs WHERE entity = 'jobs' "
                    "AND created_at < now() - interval '6 months' ORDER BY created_at DESC LIMIT 1")
        some_id, entity_id = cur.fetchone()
    conn.close()
    values = {"ENTITY": str(entity_id), "ADMIN": str(admin)}
    results = {}
    for label, path, query in CASES:
        path = path.replace("ID", str(some_id))
        args = {key: values.get(value, value) for key, value in query.items() if key != "deep"}
        if not path[-1].isdigit():  # a list, not one row
            args["per_page"] = PER_PAGE
        if query.get("deep"):
            args["cursor"] = _deep_cursor(client, headers, path)
        _db_ms(client.get(path, query_string=args, headers=headers))  # warm-up
        results[label] = statistics.median(
            _db_ms(client.get(path, query_string=args, headers=headers)) for _ in range(repeat))
    close_resources(app)
    return results


def measure(server_url, sizes, repeat):
    """Return {label: {rows: median db ms}} for each size of history."""
    by_label = {}
    for rows in sizes:
        url, _ = seeded_database(server_url, f"bench_audit_{rows}", 2000)
        fill_history(url, rows)
        for label, value in measure_size(url, repeat).items():
            by_label.setdefault(label, {})[rows] = value
    return by_label


def conversion_seconds(server_url, rows):
    """Return how long migration 0080 took to turn a plain audit_logs of `rows` rows into the partitioned one."""
    from apps.api.db import migrate

    url = create_database(server_url, "bench_audit_conversion")
    directory = Path(tempfile.mkdtemp(prefix="printshop-bench-migrations-"))
    try:
        for migration in migrate.discover():
            if migration.version < "0080":
                shutil.copy(migration.path, directory)
        migrate.upgrade(url, directory, log=lambda line: None)
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("INSERT INTO audit_logs (action, entity, entity_id, created_at) "
                        "SELECT 'update', 'jobs', g, now() - make_interval(secs => g) FROM generate_series(1, %s) g",
                        (rows,))
            cur.execute("VACUUM ANALYZE audit_logs")
        conn.close()
        for migration in migrate.discover():
            shutil.copy(migration.path, directory)
        started = time.perf_counter()
        migrate.upgrade(url, directory, log=lambda line: None)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def markdown(results, sizes):
    """Return the table: db ms at each size, the ratio, the goal (O(page): at most 2x, or under 5 ms)."""
    small, large = min(sizes), max(sizes)
    lines = [f"| list | {small:,} audit rows | {large:,} audit rows | ratio | goal (≤ 2x or < 5 ms) |",
             "|---|---:|---:|---:|---|"]
    for label, by_size in results.items():
        at_small, at_large = by_size[small], by_size[large]
        verdict = "met" if at_large < 5 or at_large <= 2 * at_small else "**missed**"
        lines.append(f"| {label} | {ms(at_small)} | {ms(at_large)} | {at_large / at_small:.1f}x | {verdict} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="audit rows of the large set")
    parser.add_argument("--small", type=int, default=100_000, help="audit rows of the small set")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--conversion-rows", type=int, default=1_000_000,
                        help="audit rows for timing migration 0080 (0: skip)")
    args = parser.parse_args(argv)
    sizes = [args.small, args.rows]
    with database_server() as server_url:
        print(markdown(measure(server_url, sizes, args.repeat), sizes))
        if args.conversion_rows:
            seconds = conversion_seconds(server_url, args.conversion_rows)
            print(f"\nmigration 0080 on {args.conversion_rows:,} audit rows: {seconds:.1f} s")


if __name__ == "__main__":
    main()
