"""Every list query the page sends, at the largest data set: database time of the first page and of a page
deep by cursor (issue 25: at most 10 ms each), and the CSV export of every job (rows/s, server memory).

    BENCH_DATA_DIR=.bench-data .venv/bin/python -m bench.page_lists [--jobs N]   # alone

The database time is the endpoint's own Server-Timing `db` (the pooled connection borrowed, every statement
of the request, given back), served in-process by the Flask test client, median of `repeat` runs after a
warm-up. "Deep" is the page after DEEP_ROWS rows, reached by following next_cursor (per_page=100), then
asked for with per_page=20 as the page asks for every page.
"""
import argparse
import os
import re
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bench.harness import database_server, ms, say, seeded_database

SERVER_TIMING_DB = re.compile(r"db;dur=([\d.]+)")
PER_PAGE = 20
DEEP_ROWS = 10_000
GOAL_MS = 10.0


def cases(today: date) -> list[tuple[str, str, dict[str, str]]]:
    """Return (label, path, query) of every list the page sends; CUSTOMER is a busy customer's id."""
    month_ago, in_a_week = today - timedelta(days=30), today + timedelta(days=7)
    jobs = [(f"jobs sort={sort}&order={order}", {"sort": sort, "order": order})
            for sort in ("created_at", "updated_at", "due_date", "priority") for order in ("desc", "asc")]
    jobs += [
        ("jobs q=wrap", {"q": "wrap"}),
        ("jobs q=wrap sort=due_date", {"q": "wrap", "sort": "due_date", "order": "asc"}),
        ("jobs q=wrap sort=priority", {"q": "wrap", "sort": "priority"}),
        ("jobs q=oak (customers' names)", {"q": "oak"}),
        ("jobs q=harbor bakery (rare)", {"q": "harbor bakery 9"}),
        ("jobs status=in_progress", {"status": "in_progress"}),
        ("jobs status=completed", {"status": "completed"}),
        ("jobs status=on_hold sort=due_date", {"status": "on_hold", "sort": "due_date"}),
        ("jobs customer_id=", {"customer_id": "CUSTOMER"}),
        ("jobs overdue=true", {"overdue": "true"}),
        ("jobs overdue=true sort=due_date", {"overdue": "true", "sort": "due_date", "order": "asc"}),
        ("jobs due next 7 days sort=due_date", {"due_from": str(today), "due_to": str(in_a_week),
                                                 "sort": "due_date", "order": "asc"}),
        ("jobs due last 30 days", {"due_from": str(month_ago), "due_to": str(today)}),
        ("jobs status=active&q=wrap", {"status": "active", "q": "wrap"}),
    ]
    return ([(label, "/api/jobs", query) for label, query in jobs] + [
        ("customers", "/api/customers", {}),
        ("customers q=oak", "/api/customers", {"q": "oak"}),
        ("machines", "/api/machines", {}),
        ("users", "/api/users", {}),
        ("dashboard overdue-jobs (uncached)", "/api/dashboard/overdue-jobs", {}),
    ])


def _app(url: str) -> Any:
    from apps.api import create_app

    return create_app({"APP_ENV": "test", "DATABASE_URL": url, "RATE_LIMITS_ENABLED": False,
                       "CACHE_ENABLED": False, "JWT_SECRET_KEY": secrets.token_urlsafe(48),
                       "LOG_LEVEL": "WARNING"})


def _db_ms(client: Any, headers: dict[str, str], path: str, query: dict[str, Any]) -> tuple[float, Any]:
    response = client.get(path, query_string=query, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{path} {query}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return float(SERVER_TIMING_DB.search(response.headers["Server-Timing"]).group(1)), response.get_json()


def _deep_cursor(client: Any, headers: dict[str, str], path: str, query: dict[str, Any]) -> str | None:
    """Follow next_cursor DEEP_ROWS rows into the list; return the cursor there (None: a shorter list)."""
    cursor = None
    for _ in range(DEEP_ROWS // 100):
        args = dict(query, per_page=100, **({"cursor": cursor} if cursor else {}))
        _, body = _db_ms(client, headers, path, args)
        cursor = body.get("pagination", {}).get("next_cursor")
        if not cursor:
            return None
    return cursor


def _median(function: Callable[[], float], repeat: int) -> float:
    function()
    return statistics.median(function() for _ in range(repeat))


def _busy_customer(url: str) -> tuple[int, date]:
    import psycopg2

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT customer_id FROM jobs GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1")
        customer = cur.fetchone()[0]
        cur.execute("SELECT (now() AT TIME ZONE 'UTC')::date")
        today = cur.fetchone()[0]
    conn.close()
    return customer, today


def measure(url: str, repeat: int) -> list[tuple[str, float, float | None]]:
    """Return [(label, first page ms, deep page ms or None)] for every list the page sends."""
    customer, today = _busy_customer(url)
    app = _app(url)
    client = app.test_client()
    rows = []
    try:
        login = client.post("/api/auth/login", json={"username": "admin", "password": "demo"})
        headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
        for label, path, query in cases(today):
            query = {key: str(customer) if value == "CUSTOMER" else value for key, value in query.items()}
            page = dict(query, per_page=PER_PAGE) if path != "/api/dashboard/overdue-jobs" else query
            first = _median(lambda page=page, path=path: _db_ms(client, headers, path, page)[0], repeat)
            deep = None
            if path.startswith("/api/jobs") or path == "/api/customers":
                cursor = _deep_cursor(client, headers, path, query)
                if cursor:
                    deep_page = dict(page, cursor=cursor)
                    deep = _median(lambda deep_page=deep_page, path=path: _db_ms(client, headers, path,
                                                                                 deep_page)[0], repeat)
            say(f"{label}: first {first:.2f} ms, deep {deep if deep is None else round(deep, 2)} ms")
            rows.append((label, first, deep))
    finally:
        from apps.api import close_resources
        close_resources(app)
    return rows


def _rss(pids: list[int]) -> int:
    import psutil

    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def export(url: str, repeat: int = 1) -> list[tuple[int, float, float, float]]:
    """Stream every job as CSV from a one-worker gunicorn; return (rows, seconds, rows/s, peak RSS growth MB).

    The worker's resident memory is sampled every 20 ms while the answer streams; growth is the peak over
    its value after a warm-up export of a small filter (the code and pool already loaded).
    """
    import http.client
    from urllib.parse import urlsplit

    from bench.http_pairs import serve, token

    results = []
    with serve(url, workers=1, threads=2) as server:
        headers = dict(token(server, "manager"), Accept="text/csv")
        workers = server.worker_pids()
        address = urlsplit(server.base_url)

        def download(path: str) -> int:
            conn = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"CSV export: {response.status} {response.read()[:300]!r}")
            lines = 0
            while chunk := response.read(1 << 16):
                lines += chunk.count(b"\n")
            conn.close()
            return lines - 1  # the header row

        download("/api/jobs?status=on_hold")  # warm-up: code, pool, plans
        for _ in range(repeat):
            baseline, peak, done = _rss(workers), [0], threading.Event()

            def sample(baseline: int = baseline, peak: list[int] = peak, done: threading.Event = done) -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], _rss(workers) - baseline)
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            rows = download("/api/jobs")
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
            results.append((rows, seconds, rows / seconds, peak[0] / 2**20))
            say(f"CSV export: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), "
                f"worker RSS +{peak[0] / 2**20:.1f} MB at most")
    return results


def markdown(rows: list[tuple[str, float, float | None]], exports: list[tuple[int, float, float, float]],
             jobs: int) -> str:
    """Return the lists table (first and deep page against the 10 ms goal) and the export's figures."""
    lines = [f"| list the page sends ({jobs:,} jobs) | first page | page {DEEP_ROWS:,} rows deep (cursor) | goal ≤ "
             f"{GOAL_MS:.0f} ms |", "|---|---:|---:|---|"]
    for label, first, deep in rows:
        worst = max(first, deep or 0)
        lines.append(f"| {label} | {ms(first)} | {'-' if deep is None else ms(deep)} | "
                     f"{'met' if worst <= GOAL_MS else '**missed**'} |")
    if exports:
        rows_out, seconds, rate, growth = max(exports, key=lambda item: item[3])
        lines += ["", f"CSV export of every job (`GET /api/jobs`, `Accept: text/csv`, one gunicorn worker): "
                      f"{rows_out:,} rows in {seconds:.1f} s, {rate:,.0f} rows/s; the worker's resident memory grew "
                      f"by at most {growth:.1f} MB while it streamed (goal < 50 MB)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("BENCH_JOBS", 1_000_000)))
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args(argv)
    with database_server() as server_url:
        url, _ = seeded_database(server_url, f"bench_{args.jobs}", args.jobs)
        rows = measure(url, args.repeat)
        exports = [] if args.skip_export else export(url)
    print(markdown(rows, exports, args.jobs))


if __name__ == "__main__":
    main()
