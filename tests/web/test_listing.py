"""Lists by keyset cursor (no gaps, no duplicates while rows are added), tampered cursors, bounded counts."""
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.factories import add_customer, add_job

SORTS = [(sort, order) for sort in ("created_at", "updated_at", "due_date", "priority") for order in ("asc", "desc")]
PRIORITIES = ("low", "normal", "high", "urgent")


def _add_jobs(db, customer, count, start=0):
    """Insert `count` jobs whose sort keys repeat (ties) and whose due dates are sometimes missing."""
    ids = []
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(start, start + count):
        due = None if index % 4 == 0 else date(2026, 3, 1) + timedelta(days=index % 3)
        job_id = add_job(db, customer, due_date=due, created_at=moment + timedelta(hours=index % 5),
                         title=f"job {index}")
        with db.cursor() as cur:
            cur.execute("UPDATE jobs SET priority = %s, updated_at = %s WHERE id = %s",
                        (PRIORITIES[index % 4], moment + timedelta(minutes=index % 3), job_id))
        ids.append(job_id)
    return ids


def _walk(client, headers, path, per_page, between=lambda: None):
    """Follow next_cursor from the first page to the last; return the ids in the order served."""
    seen, url = [], f"{path}{'&' if '?' in path else '?'}per_page={per_page}"
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["pagination"]["next_cursor"]
        assert (cursor is not None) == body["pagination"]["has_next"]
        if cursor is None:
            return seen
        between()
        url = f"{path}{'&' if '?' in path else '?'}per_page={per_page}&cursor={cursor}"


@pytest.mark.parametrize("sort, order", SORTS)
def test_cursor_walk_has_no_gap_and_no_duplicate_while_jobs_are_added(client, auth, db, sort, order):
    customer = add_customer(db)
    before = _add_jobs(db, customer, 17)
    added = []
    path = f"/api/jobs?sort={sort}&order={order}"
    ordered = [item["id"] for item in client.get(f"{path}&per_page=100", headers=auth.headers("viewer"))
               .get_json()["items"]]
    seen = _walk(client, auth.headers("viewer"), path, 4,
                 between=lambda: added.extend(_add_jobs(db, customer, 2, start=100 + len(added))))
    assert len(seen) == len(set(seen))  # no duplicate
    assert set(before) <= set(seen)  # no gap
    assert [job for job in seen if job in before] == ordered  # the same order as one big page
    assert set(seen) <= set(before) | set(added)


def test_cursor_pages_continue_customers_users_and_audit_logs(client, auth, db):
    for index in range(7):  # through the API, so that the audit log has rows too
        response = client.post("/api/customers", json={"name": f"Cedar {index % 3}"}, headers=auth.headers("manager"))
        assert response.status_code == 201
    customers = _walk(client, auth.headers("viewer"), "/api/customers?q=cedar", 2)
    assert len(customers) == len(set(customers)) == 7
    users = _walk(client, auth.headers("admin"), "/api/users", 3)
    assert len(users) == len(set(users)) == len(auth.users)
    whole = client.get("/api/audit-logs?per_page=100", headers=auth.headers("admin")).get_json()["items"]
    assert len(whole) == 7
    assert _walk(client, auth.headers("admin"), "/api/audit-logs", 2) == [row["id"] for row in whole]


def _tampered(cursor):
    encoded, signature = cursor.split(".")
    flipped = "A" if encoded[3] != "A" else "B"
    return f"{encoded[:3]}{flipped}{encoded[4:]}.{signature}"


def test_a_tampered_or_foreign_cursor_is_a_400_and_reads_nothing(client, auth, db):
    customer = add_customer(db)
    _add_jobs(db, customer, 5)
    headers = auth.headers("viewer")
    cursor = client.get("/api/jobs?per_page=2", headers=headers).get_json()["pagination"]["next_cursor"]
    add_customer(db, "Other", "o@example.com")
    add_customer(db, "Third", "t@example.com")
    customers_cursor = client.get("/api/customers?per_page=1", headers=headers).get_json()["pagination"]
    for bad in (_tampered(cursor), cursor + "x", cursor.split(".")[0], "not-a-cursor", "..", "%00",
                customers_cursor["next_cursor"]):
        response = client.get("/api/jobs", query_string={"per_page": 2, "cursor": bad}, headers=headers)
        assert response.status_code == 400, bad
        assert response.content_type == "application/problem+json"
    # A cursor of one order is refused by another: its key would mean something else there.
    other_order = client.get(f"/api/jobs?per_page=2&sort=due_date&cursor={cursor}", headers=headers)
    assert other_order.status_code == 400
    assert client.get(f"/api/jobs?per_page=2&cursor={cursor}", headers=headers).status_code == 200


def test_counts_past_the_limit_are_estimates_unless_an_exact_count_is_preferred(new_app, database_url, auth, db):
    client = new_app(database_url, LIST_EXACT_COUNT_LIMIT=3).test_client()
    customer = add_customer(db)
    _add_jobs(db, customer, 3)
    small = client.get("/api/jobs?per_page=2", headers=auth.headers("viewer")).get_json()["pagination"]
    assert (small["total"], small["total_is_estimate"]) == (3, False)
    _add_jobs(db, customer, 4, start=3)
    big = client.get("/api/jobs?per_page=2", headers=auth.headers("viewer")).get_json()["pagination"]
    assert big["total_is_estimate"] is True and big["total"] >= 4 and big["has_next"] is True
    response = client.get("/api/jobs?per_page=2", headers={**auth.headers("viewer"), "Prefer": "count=exact"})
    exact = response.get_json()["pagination"]
    assert (exact["total"], exact["pages"], exact["total_is_estimate"]) == (7, 4, False)
    assert response.headers["Preference-Applied"] == "count=exact"
    filtered = client.get("/api/jobs?per_page=2&q=job 6", headers=auth.headers("viewer")).get_json()
    assert filtered["pagination"]["total"] == 1 and filtered["pagination"]["total_is_estimate"] is False


def test_deep_offsets_are_refused_with_a_pointer_to_the_cursor(new_app, database_url, auth):
    client = new_app(database_url, LIST_MAX_OFFSET=40).test_client()
    assert client.get("/api/jobs?page=3&per_page=20", headers=auth.headers("viewer")).status_code == 200
    response = client.get("/api/jobs?page=4&per_page=20", headers=auth.headers("viewer"))
    assert response.status_code == 400 and "cursor" in response.get_json()["detail"]


def test_the_openapi_document_describes_cursors_estimates_and_search_terms(client):
    document = client.get("/api/openapi.json").get_json()
    pagination = document["components"]["schemas"]["Pagination"]["properties"]
    assert {"next_cursor", "total_is_estimate"} <= set(pagination)
    assert "Prefer: count=exact" in pagination["total"]["description"]
    parameters = {item["name"]: item for item in document["paths"]["/api/jobs"]["get"]["parameters"]}
    assert "cursor" in parameters and "three letters or digits" in parameters["q"]["schema"]["description"]
    assert set(parameters["sort"]["schema"]["enum"]) == {"created_at", "updated_at", "due_date", "priority"}


def test_a_statement_timeout_on_a_small_search_is_a_503(new_app, database_url, auth, db):
    # The count stops at its first match (a limit of 0) and every search is "small" (read by bitmap and sorted),
    # so the 1 ms timeout strikes the page's own statement, the one run with enable_indexscan off.
    app = new_app(database_url, DB_STATEMENT_TIMEOUT_MS=1, LIST_EXACT_COUNT_LIMIT=0, LIST_SEARCH_SORT_LIMIT=10**9)
    with db.cursor() as cur:
        cur.execute("INSERT INTO customers (name, email) SELECT 'Oak sign ' || i, 'oak' || i || '@example.com' "
                    "FROM generate_series(1, 30000) i")
        cur.execute("ANALYZE customers")
    client, headers = app.test_client(), auth.headers("viewer")
    for _ in range(3):  # warm the connection's catalog caches: a new session's first statements plan slowly
        client.get("/api/customers?q=zzz", headers=headers)
    response = client.get("/api/customers?q=oak&per_page=100", headers=headers)
    assert response.status_code == 503, response.get_json()
    assert response.mimetype == "application/problem+json" and response.headers["Retry-After"]


def test_a_failed_bitmap_read_raises_its_own_error_not_the_settings_restore(app, db):
    from psycopg2.errors import QueryCanceled

    from apps.api.db import cursor
    from apps.api.web.listing import _fetch

    with app.app_context(), pytest.raises(QueryCanceled):
        with cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = 1")
            _fetch(cur, "SELECT pg_sleep(0.2)", {}, by_bitmap=True)
