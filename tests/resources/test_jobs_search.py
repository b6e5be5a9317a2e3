"""GET /api/jobs: q matches the customer's name too; due_from/due_to; cursors and totals hold with them."""
from datetime import timedelta

import pytest

from tests.support.auth import get_as
from tests.support.factories import add_customer, add_job, utc_today


@pytest.fixture
def jobs(db):
    """Jobs of two customers, one named Oakwood; titles and due dates spread over two weeks."""
    oak, other = add_customer(db, "Oakwood Dental"), add_customer(db, "Harbor Bakery")
    today = utc_today()
    made = {}
    for day in range(10):
        made[f"oak {day}"] = add_job(db, oak, "active", today + timedelta(days=day), title=f"Menu board {day}")
        made[f"other {day}"] = add_job(db, other, "active", today + timedelta(days=day), title=f"Oak panel {day}")
    made["undated"] = add_job(db, oak, "active", None, title="Menu board undated")
    return made


def _all(client, auth, query, per_page=3):
    """Follow next_cursor through the whole list; return (titles, totals of every page)."""
    titles, totals, cursor = [], [], None
    while True:
        path = f"/api/jobs?{query}&per_page={per_page}" + (f"&cursor={cursor}" if cursor else "")
        response = get_as(client, auth, path, "viewer")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        titles += [item["title"] for item in body["items"]]
        totals.append(body["pagination"]["total"])
        cursor = body["pagination"]["next_cursor"]
        if not cursor:
            return titles, totals


@pytest.mark.parametrize("sort", ["created_at", "updated_at", "due_date", "priority"])
def test_q_matches_the_customers_name_as_well_as_titles(client, auth, jobs, sort):
    titles, totals = _all(client, auth, f"q=oakwoo&sort={sort}")
    assert sorted(titles) == sorted([f"Menu board {day}" for day in range(10)] + ["Menu board undated"])
    titles, totals = _all(client, auth, f"q=OAK&sort={sort}")  # the customer's name or the title, any case
    assert len(titles) == len(set(titles)) == 21 and set(totals) == {21}


def test_q_by_customer_name_combines_with_the_other_filters(client, auth, jobs, db):
    on_hold = add_job(db, add_customer(db, "Oakridge Cafe"), "on_hold", utc_today(), title="Window decals")
    body = get_as(client, auth, "/api/jobs?q=oakri&status=on_hold", "viewer").get_json()
    assert [item["id"] for item in body["items"]] == [on_hold] and body["pagination"]["total"] == 1
    assert get_as(client, auth, "/api/jobs?q=oakri&status=active", "viewer").get_json()["items"] == []


@pytest.mark.parametrize("sort", ["created_at", "due_date", "priority"])
def test_due_range_is_inclusive_and_leaves_out_jobs_without_a_due_date(client, auth, jobs, sort):
    today = utc_today()
    start, end = today + timedelta(days=2), today + timedelta(days=4)
    titles, totals = _all(client, auth, f"due_from={start}&due_to={end}&sort={sort}", per_page=2)
    expected = [f"{kind} {day}" for kind in ("Menu board", "Oak panel") for day in (2, 3, 4)]
    assert sorted(titles) == sorted(expected) and set(totals) == {6}
    assert len(_all(client, auth, f"due_from={today + timedelta(days=8)}")[0]) == 4
    assert len(_all(client, auth, f"due_to={today}&q=oak")[0]) == 2


def test_due_range_in_the_wrong_order_or_unreadable_is_refused(client, auth, jobs):
    today = utc_today()
    backwards = get_as(client, auth, f"/api/jobs?due_from={today}&due_to={today - timedelta(days=1)}", "viewer")
    assert backwards.status_code == 422 and backwards.content_type == "application/problem+json"
    assert get_as(client, auth, "/api/jobs?due_from=tomorrow", "viewer").status_code == 400


def test_the_openapi_document_lists_the_due_range(client):
    parameters = client.get("/api/openapi.json").get_json()["paths"]["/api/jobs"]["get"]["parameters"]
    assert {"due_from", "due_to", "q"} <= {parameter["name"] for parameter in parameters}
