"""GET /api/jobs with Accept: text/csv: every matching job, the list's rows, managers only, formula-safe."""
import csv
import io
from datetime import timedelta

import pytest

from tests.support.auth import get_as
from tests.support.factories import add_customer, add_job, utc_today

CSV = {"Accept": "text/csv"}
HEADER = ["job_number", "title", "customer", "status", "due_date", "priority", "steps"]


@pytest.fixture
def jobs(db, auth):
    """25 jobs (more than a page) of two customers, one with a formula for a name; some with steps done."""
    oak, risky = add_customer(db, "Oakwood Dental"), add_customer(db, "=HYPERLINK(\"http://x\")")
    operator = auth.user_id("operator1")
    made = []
    for index in range(25):
        customer = oak if index % 2 else risky
        steps = [(operator, "completed"), (operator, "pending")] if index % 3 == 0 else []
        made.append(add_job(db, customer, "active", utc_today() + timedelta(days=index % 5), steps=steps,
                            title=f"-Banner {index}" if index == 7 else f"Vehicle wrap {index}"))
    return made


def _csv(client, auth, query, user="manager"):
    response = client.get(f"/api/jobs?{query}", headers={**auth.headers(user), **CSV})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="jobs.csv"'
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _api_rows(client, auth, query):
    """The JSON list's rows for `query`, every page followed, as the CSV writes them."""
    rows, cursor = [], None
    while True:
        path = f"/api/jobs?{query}&per_page=7" + (f"&cursor={cursor}" if cursor else "")
        body = get_as(client, auth, path, "manager").get_json()
        for item in body["items"]:
            rows.append([item["job_number"], item["title"], item["customer_name"], item["status"],
                         item["due_date"] or "", item["priority"], f"{item['steps_completed']}/{item['steps_total']}"])
        cursor = body["pagination"]["next_cursor"]
        if not cursor:
            return rows


def _unescaped(row):
    return [cell[1:] if cell.startswith("'") else cell for cell in row]


@pytest.mark.parametrize("query", ["sort=created_at", "q=oakwoo&sort=due_date&order=asc",
                                   "status=active&sort=priority", "due_from={today}&due_to={today}"])
def test_the_csv_is_every_row_of_the_list_for_the_same_filter(client, auth, jobs, query):
    query = query.format(today=utc_today())
    table = _csv(client, auth, query)
    assert table[0] == HEADER
    expected = _api_rows(client, auth, query)
    assert len(expected) >= 5
    assert [_unescaped(row) for row in table[1:]] == expected


def test_cells_a_spreadsheet_would_run_are_prefixed(client, auth, jobs):
    table = _csv(client, auth, "sort=created_at&order=asc")
    assert {row[2] for row in table[1:]} == {"Oakwood Dental", "'=HYPERLINK(\"http://x\")"}
    assert table[8][1] == "'-Banner 7"
    assert table[1][6] == "1/2" and table[2][6] == "0/0"


@pytest.mark.parametrize("user", ["viewer", "operator1"])
def test_viewers_and_operators_may_not_export(client, auth, jobs, user):
    response = client.get("/api/jobs", headers={**auth.headers(user), **CSV})
    assert response.status_code == 403 and response.content_type == "application/problem+json"
    assert client.get("/api/jobs", headers=auth.headers(user)).status_code == 200  # JSON as before


def test_no_accept_or_any_type_still_answers_json(client, auth, jobs):
    for accept in ("*/*", "application/json", "application/json, text/csv;q=0.5"):
        response = client.get("/api/jobs", headers={**auth.headers("manager"), "Accept": accept})
        assert response.mimetype == "application/json", accept


def test_bad_filters_are_refused_before_any_csv(client, auth, jobs):
    response = client.get("/api/jobs?q=ab", headers={**auth.headers("manager"), **CSV})
    assert response.status_code == 422 and response.content_type == "application/problem+json"


def test_the_openapi_document_offers_the_csv(client):
    answer = client.get("/api/openapi.json").get_json()["paths"]["/api/jobs"]["get"]["responses"]
    assert "text/csv" in answer["200"]["content"] and "403" in answer
