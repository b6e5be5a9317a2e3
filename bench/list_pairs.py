"""Every list query at two sizes: the old plan (OFFSET + exact count) against the new one (issue 15).

The new plan is the real endpoint served in-process by the Flask test client, timed by its own
Server-Timing `db` (the connection borrowed, every statement of the request, given back). The old plan
is the same filters as the old code ran them: an exact count(*) and a page cut by OFFSET (the cursor
row's old twin is the OFFSET of the same page), timed the same way around one pooled transaction.
"""
import re
import secrets
import statistics
import time

from psycopg2 import sql

from bench.harness import ms

SERVER_TIMING_DB = re.compile(r"db;dur=([\d.]+)")
PAGE_500 = 500
PER_PAGE = 20
# (label, resource, query string). Search terms of 1, 2, 3 and 4+ characters; first page, page 500, cursor.
CASES = [
    ("jobs, first page", "jobs", {}),
    ("jobs ?status=completed", "jobs", {"status": "completed"}),
    ("jobs ?status=on_hold", "jobs", {"status": "on_hold"}),
    ("jobs ?customer_id=", "jobs", {"customer_id": "CUSTOMER"}),
    ("jobs ?overdue=true", "jobs", {"overdue": "true"}),
    ("jobs ?sort=due_date&order=asc", "jobs", {"sort": "due_date", "order": "asc"}),
    ("jobs ?sort=priority&order=desc", "jobs", {"sort": "priority", "order": "desc"}),
    ("jobs ?sort=updated_at&order=desc", "jobs", {"sort": "updated_at", "order": "desc"}),
    ("jobs ?q=e (1 char)", "jobs", {"q": "e"}),
    ("jobs ?q=ab (2 chars)", "jobs", {"q": "ab"}),
    ("jobs ?q=wra (3 chars)", "jobs", {"q": "wra"}),
    ("jobs ?q=wrap (4 chars)", "jobs", {"q": "wrap"}),
    ("jobs ?q=<a job number>", "jobs", {"q": "JOBNUMBER"}),
    ("jobs ?status=active&q=banner", "jobs", {"status": "active", "q": "banner"}),
    ("jobs ?page=500", "jobs", {"page": PAGE_500}),
    ("jobs, cursor page 500", "jobs", {"cursor": PAGE_500}),
    ("customers, first page", "customers", {}),
    ("customers ?q=a (1 char)", "customers", {"q": "a"}),
    ("customers ?q=oa (2 chars)", "customers", {"q": "oa"}),
    ("customers ?q=oak (3 chars)", "customers", {"q": "oak"}),
    ("customers ?q=harbor (4+ chars)", "customers", {"q": "harbor"}),
    # The 10k data set has 1,000 customers: page 40 is the deepest both sizes have.
    ("customers ?page=40", "customers", {"page": 40}),
    ("customers, cursor page 40", "customers", {"cursor": 40}),
]


def _app(url):
    from apps.api import create_app

    return create_app({"APP_ENV": "test", "DATABASE_URL": url, "RATE_LIMITS_ENABLED": False,
                       "JWT_SECRET_KEY": secrets.token_urlsafe(48), "LOG_LEVEL": "WARNING"})


def _resource(name):
    from apps.api.resources import customers, jobs

    if name == "jobs":
        return jobs.queries.match_jobs, jobs.queries.list_jobs, jobs.ORDERS, jobs.JobListQuery
    return customers.queries.match_customers, customers.queries.list_customers, {
        ("name", "asc"): customers.BY_NAME}, customers.CustomerQuery


def _params(resource, query):
    # The old code's pattern (listing.like_pattern escapes the same way, but answers 422 to short terms).
    pattern = None
    if query.get("q"):
        pattern = "%" + query["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if resource == "customers":
        return {"pattern": pattern}
    return {"status": query.get("status"), "customer_id": query.get("customer_id"),
            "overdue": {"true": True}.get(query.get("overdue")), "pattern": pattern, "job_number": None,
            "due_from": None, "due_to": None, "due_desc": False, "customer_ids": None, "customer_pattern": None}


def _order(resource, query, orders):
    return orders[(query.get("sort", "created_at"), query.get("order", "desc"))] if resource == "jobs" \
        else orders[("name", "asc")]


def _old_plan(app, resource, query, page):
    """Return a function running the old plan: exact count, then the page by OFFSET."""
    from apps.api import db

    match_sql, list_sql, orders, _ = _resource(resource)
    params = _params(resource, query)
    statement = sql.SQL(list_sql).format(match=sql.SQL(match_sql), **_order(resource, query, orders).parts(False))
    count = sql.SQL("SELECT count(*) AS total FROM ({}) m").format(sql.SQL(match_sql))

    def run():
        with app.test_request_context(), db.cursor() as cur:
            started = time.perf_counter()
            cur.execute(count, params)
            cur.fetchall()
            cur.execute(statement, dict(params, limit=PER_PAGE, offset=(page - 1) * PER_PAGE))
            cur.fetchall()
            return (time.perf_counter() - started) * 1000
    return run


def _cursor_for(app, resource, query, page):
    """Return the next_cursor that leads to page `page` (the key of the last row of page - 1)."""
    from apps.api import db
    from apps.api.web import list_cursor

    match_sql, list_sql, orders, _ = _resource(resource)
    order = _order(resource, query, orders)
    statement = sql.SQL(list_sql).format(match=sql.SQL(match_sql), **order.parts(False))
    path = f"/api/{resource}"
    with app.test_request_context(path), db.cursor() as cur:
        cur.execute(statement, dict(_params(resource, query), limit=1, offset=(page - 1) * PER_PAGE - 1))
        row = cur.fetchone()
        return None if row is None else list_cursor.make(page, row["cursor_key"], f"{path} {order.name}")


def _new_plan(app, client, headers, resource, query):
    """Return a function that GETs the list and answers its Server-Timing db milliseconds (None: 4xx)."""
    args = dict(query, per_page=PER_PAGE)
    if "cursor" in args:
        args["cursor"] = _cursor_for(app, resource, {}, args["cursor"])
        if args["cursor"] is None:
            return None  # a data set too small to have that page

    def run():
        response = client.get(f"/api/{resource}", query_string=args, headers=headers)
        if response.status_code >= 400:
            return -response.status_code
        return float(SERVER_TIMING_DB.search(response.headers["Server-Timing"]).group(1))
    return run


def _median(function, repeat):
    function()
    samples = [function() for _ in range(repeat)]
    return statistics.median(samples)


def _fill(url, query):
    """Replace the placeholders of `query` with values of this data set (a busy customer, a job number)."""
    import psycopg2

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT customer_id FROM jobs GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1")
        customer = cur.fetchone()[0]
        cur.execute("SELECT job_number FROM jobs ORDER BY id DESC LIMIT 1 OFFSET 10")
        number = cur.fetchone()[0]
    conn.close()
    filled = {key: {"CUSTOMER": str(customer), "JOBNUMBER": number}.get(value, value) for key, value in query.items()}
    return filled


def measure(urls, repeat):
    """Return one row per list query: {label: {size: (old ms, new ms or -status)}}."""
    results = {}
    for size, url in sorted(urls.items()):
        app = _app(url)
        client = app.test_client()
        login = client.post("/api/auth/login", json={"username": "viewer", "password": "demo"})  # the seed's
        headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
        for label, resource, query in CASES:
            query = _fill(url, query)
            page = query.get("page", query.get("cursor", 1))
            old_query = {k: v for k, v in query.items() if k not in ("page", "cursor")}
            new_plan = _new_plan(app, client, headers, resource, query)
            if new_plan is None:
                results.setdefault(label, {})[size] = None
                continue
            old = _median(_old_plan(app, resource, old_query, page), max(3, repeat // 3))
            results.setdefault(label, {})[size] = (old, _median(new_plan, repeat))
        from apps.api import close_resources
        close_resources(app)
    return results


def _cell(value):
    return f"{-value:.0f}" if value < 0 else ms(value)


def markdown(results, sizes):
    """Return the table: old and new database time at each size, the new plan's 1M/10k ratio, the goal."""
    small, large = min(sizes), max(sizes)
    lines = [f"| list query | old {small:,} | old {large:,} | old ratio | new {small:,} | new {large:,} | "
             "new ratio | goal (new: ≤ 2x or < 5 ms) |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for label, by_size in results.items():
        if by_size[small] is None or by_size[large] is None:
            lines.append(f"| {label} | n/a (the data set has no such page) |  |  |  |  |  |  |")
            continue
        (old_s, new_s), (old_l, new_l) = by_size[small], by_size[large]
        if new_l < 0:
            verdict, ratio = f"met: answered {-new_l:.0f} (documented)", "-"
        else:
            ratio = f"{new_l / new_s:.1f}x" if new_s > 0 else "-"
            verdict = "met" if new_l < 5 or new_l <= 2 * new_s else "**missed**"
        lines.append(f"| {label} | {ms(old_s)} | {ms(old_l)} | {old_l / old_s:.1f}x | {_cell(new_s)} | "
                     f"{_cell(new_l)} | {ratio} | {verdict} |")
    return "\n".join(lines)
