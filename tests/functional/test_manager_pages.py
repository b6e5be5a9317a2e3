"""The manager's pages in a real Chromium against gunicorn: customers (search, add, edit), machines (work in
progress, a status change) and people (an admin deactivates a user after giving the password again, because
the page's token was refreshed). Driven by the words on the screen and the labels of fields.
"""
import uuid
from urllib.parse import quote

import pytest
from selenium.webdriver.support.ui import Select

from apps.api.config import PROJECT_ROOT
from tests.support.apps import module_app
from tests.support.browser import by_css, console_errors, log_in, screenshot, wait_for
from tests.support.factories import add_customer
from tests.support.gunicorn import page_server
from tests.support.shop_floor import arrange_shop
from tests.support.words import button, field, has_button, text_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def shop(test_database):
    with module_app(test_database) as (app, auth, conn):
        ids = arrange_shop(conn, auth.user_id("operator1"))
        for number in range(30):  # more than one page of the list (25)
            add_customer(conn, f"Zephyr Displays {number:02d}")
        with page_server(test_database[0]) as server:
            yield server, auth, ids


@pytest.fixture
def page(browser, shop):
    browser.set_window_size(1280, 900)
    browser.get(shop[0].base_url + "/static/icon.svg")
    browser.execute_script("sessionStorage.clear()")
    console_errors(browser)
    return browser


def api(shop, method, path, body=None):
    server, auth = shop[0], shop[1]
    status, _, answer = server.request(method, path, body, auth.headers("admin"))
    assert status < 300, answer
    return answer


def open_view(driver, shop, route):
    driver.get(f"{shop[0].base_url}/#{route}")
    wait_for(driver, lambda d: not by_css(d, "main[aria-busy=true]"), message=f"{route} did not load")


def test_a_customer_search_shows_the_apis_first_page_with_its_count(page, shop):
    log_in(page, shop[0].base_url, "manager")
    open_view(page, shop, "/customers")
    field(page, "Search customers").send_keys("ve")
    wait_for(page, lambda d: "three letters" in text_of(d, "#field-customer-search-error"),
             message="a too short search did not say why")
    field(page, "Search customers").send_keys("r")
    expected = api(shop, "GET", "/api/customers?q=ver&per_page=25")
    assert expected["items"]
    count = f"{len(expected['items'])} of {expected['pagination']['total']}"
    wait_for(page, lambda d: "#/customers?q=ver" in d.current_url and count in text_of(d, ".count-line"),
             message="the search did not show the API's count")
    names = page.execute_script("return Array.from(document.querySelectorAll('main tbody tr td:first-child'),"
                                " (c) => c.innerText.trim())")
    assert names == [customer["name"] for customer in expected["items"]]
    assert [error for error in console_errors(page) if "Failed to load resource" not in error] == []


def test_load_more_continues_the_customer_list_by_cursor(page, shop):
    log_in(page, shop[0].base_url, "viewer")
    open_view(page, shop, "/customers")
    total = api(shop, "GET", "/api/customers?per_page=1")["pagination"]["total"]
    assert total > 25
    wait_for(page, lambda d: text_of(d, ".count-line") == f"25 of {total}", message="no first page count")
    button(page, "Load more").click()
    shown = min(50, total)
    wait_for(page, lambda d: text_of(d, ".count-line") == f"{shown} of {total}", message="Load more did not add")
    names = page.execute_script("return Array.from(document.querySelectorAll('main tbody tr td:first-child'),"
                                " (c) => c.innerText.trim())")
    assert len(names) == len(set(names)) == shown


def test_a_manager_adds_a_customer_once_then_edits_it(page, shop):
    log_in(page, shop[0].base_url, "manager")
    open_view(page, shop, "/customers")
    name = f"Quayside Kites {uuid.uuid4().hex[:6]}"
    button(page, "New customer").click()
    field(page, "Name").send_keys(name)
    field(page, "Email").send_keys("not an email")
    button(page, "Save").click()
    wait_for(page, lambda d: d.find_element("id", "field-email-error").text, message="no error beside Email")
    assert api(shop, "GET", f"/api/customers?q={quote(name)}")["pagination"]["total"] == 0
    field(page, "Email").clear()
    field(page, "Email").send_keys("kites@example.com")
    page.execute_script("arguments[0].click(); arguments[0].click();", button(page, "Save"))  # a double click
    wait_for(page, lambda d: "#/customers/" in d.current_url and name in text_of(d, "h1"), message="not saved")
    assert api(shop, "GET", f"/api/customers?q={quote(name)}")["pagination"]["total"] == 1
    button(page, "Edit").click()
    field(page, "Phone").send_keys("+44 20 7946 0000")
    button(page, "Save").click()
    wait_for(page, lambda d: "+44 20 7946 0000" in text_of(d, "main dl"), message="the edit did not show")
    customer_id = int(page.current_url.rsplit("/", 1)[1])
    assert api(shop, "GET", f"/api/customers/{customer_id}")["phone"] == "+44 20 7946 0000"


def test_a_customers_page_lists_their_jobs(page, shop):
    log_in(page, shop[0].base_url, "viewer")
    customer = shop[2]["customers"][0]
    open_view(page, shop, f"/customers/{customer}")
    expected = api(shop, "GET", f"/api/jobs?customer_id={customer}&per_page=25")
    wait_for(page, lambda d: f"{len(expected['items'])} of {expected['pagination']['total']} jobs"
             in text_of(d, "main"), message="no job count")
    shown = text_of(page, "#customer-jobs")
    assert all(job["job_number"] in shown for job in expected["items"])
    assert not has_button(page, "Edit")  # a viewer reads


def test_machines_show_their_work_and_a_manager_changes_a_status(page, shop):
    log_in(page, shop[0].base_url, "manager")
    open_view(page, shop, "/machines")
    running = api(shop, "GET", f"/api/machines/{shop[2]['machines'][0]}/queue")["items"]
    job_number = next(step["job_number"] for step in running if step["status"] == "in_progress")
    wait_for(page, lambda d: job_number in text_of(d, "main table"), message="no running job shown")
    Select(field(page, "Status of Laminator 1600")).select_by_visible_text("Maintenance")
    page.execute_script("arguments[0].closest('form').querySelector('button').click()",
                        field(page, "Status of Laminator 1600"))
    laminator = shop[2]["machines"][2]
    wait_for(page, lambda d: api(shop, "GET", f"/api/machines/{laminator}")["status"] == "maintenance",
             message="the status did not change")


def test_a_viewer_gets_no_write_controls(page, shop):
    log_in(page, shop[0].base_url, "viewer")
    open_view(page, shop, "/customers")
    wait_for(page, lambda d: "of" in text_of(d, ".count-line"))
    assert not has_button(page, "New customer")
    open_view(page, shop, "/machines")
    wait_for(page, lambda d: "HP Latex 570" in text_of(d, "main"))
    assert not has_button(page, "Change status")
    assert "People" not in text_of(page, "#nav")


def test_an_admin_deactivates_a_user_after_giving_the_password_again(page, shop):
    log_in(page, shop[0].base_url, "admin")
    page.refresh()  # the access token was in memory only: the page now holds a refreshed, not a fresh, one
    open_view(page, shop, "/people")
    button(page, "Deactivate operator5").click()
    dialog = wait_for(page, lambda d: by_css(d, "dialog[open]"), message="no password prompt")[0]
    assert "password again" in dialog.text
    field(page, "Password").send_keys("demo")
    button(page, "Log in again").click()
    operator5 = shop[1].user_id("operator5")
    wait_for(page, lambda d: api(shop, "GET", f"/api/users/{operator5}")["is_active"] is False,
             message="operator5 is still active")
    wait_for(page, lambda d: by_css(d, "[aria-label='Reactivate operator5']"), message="the list did not follow")
    assert not by_css(page, "dialog[open]")


def test_screenshots_of_the_manager_pages_at_desk_and_phone_width(page, shop):
    """Save the pictures README shows; each page first has its data, and fits its width."""
    log_in(page, shop[0].base_url, "admin")
    for width, suffix in ((1280, ""), (390, "-390")):
        for route, name, ready in (("/dashboard", "dashboard", ".chart"), ("/customers", "customers", "tbody a"),
                                   ("/machines", "machines", "tbody select"), ("/people", "people", "tbody button")):
            page.set_window_size(width, 900)
            open_view(page, shop, route)
            wait_for(page, lambda d, ready=ready: by_css(d, f"main {ready}"), message=f"{route} has no data")
            assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), route
            screenshot(page, str(SCREENSHOTS / f"{name}{suffix}.png"), whole=width == 1280)
