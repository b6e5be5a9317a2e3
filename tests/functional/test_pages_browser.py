"""The shop-floor page at `/` in a real headless Chromium against the real service under gunicorn.

Each role logs in and sees what the API reports; a job created through the API shows on an open dashboard
within 5 s; an operator starts and completes a step while a second tab gets the 412 path; hostile text stays
text; no console error and no request to another origin; logout, then back, shows no data. The run saves
the screenshots shown in README (docs/screenshots/).
"""
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from apps.api.config import PROJECT_ROOT
from tests.support.apps import NO_DATABASE, module_app
from tests.support.browser import (
    by_css,
    console_errors,
    foreign_requests,
    log_in,
    rows,
    screenshot,
    texts,
    wait_for,
)
from tests.support.gunicorn import GunicornServer, page_server
from tests.support.shop_floor import arrange_shop

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
XSS_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def shop(test_database):
    """The reset test database with a small shop, served by a real gunicorn (2 workers)."""
    with module_app(test_database) as (app, auth, conn):
        ids = arrange_shop(conn, auth.user_id("operator1"))
        with page_server(test_database[0]) as server:
            yield server, auth, conn, ids


@pytest.fixture
def page(browser, shop):
    """The browser on a blank tab with no session, its console read empty."""
    for handle in browser.window_handles[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(browser.window_handles[0])
    browser.set_window_size(1280, 900)
    browser.get(shop[0].base_url + "/static/icon.svg")
    browser.execute_script("sessionStorage.clear()")
    console_errors(browser)
    return browser


def api(shop, method, path, username, body=None, headers=None):
    server, auth = shop[0], shop[1]
    return server.request(method, path, body, dict(headers or {}, **auth.headers(username)))


def tile_values(driver):
    return {key: int(value.replace(",", "")) for key, value in driver.execute_script(
        "return Array.from(document.querySelectorAll('.tile'),"
        " t => [t.dataset.stat, t.querySelector('.value').textContent])")}


def expected_tiles(stats):
    """Return what the tiles must show for an answer of /api/dashboard/stats."""
    return {"jobs.total": stats["jobs"]["total"], "jobs.overdue": stats["jobs"]["overdue"],
            **{f"jobs.{status}": stats["jobs"][status] for status in
               ("draft", "active", "in_progress", "on_hold", "completed", "cancelled")},
            "tasks.open": stats["tasks"]["pending"] + stats["tasks"]["in_progress"],
            "machines.total": sum(stats["machines"].values()), "users.active": stats["users"]["active"]}


def assert_clean(driver, base_url):
    # the blank tab's /favicon.ico (asked for by the browser, late on a loaded machine) is not the page's error
    assert [line for line in console_errors(driver) if "/favicon.ico " not in line] == []
    assert foreign_requests(driver, base_url) == []


def test_pages_carry_a_strict_policy_and_are_never_stored(shop):
    server = shop[0]
    status, headers, body = server.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-store"
    assert "<script>" not in body and " style=" not in body  # no inline script or style to allow
    status, headers, _ = server.request("GET", "/static/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in headers


def test_manager_sees_the_stats_and_a_new_job_within_5_seconds(page, shop):
    server, auth, conn, ids = shop
    with conn.cursor() as cur:  # operator1's running step has been at it for 12 hours: a timer left running
        cur.execute("UPDATE job_steps SET timer_started_at = now() - interval '12 hours' WHERE status = 'in_progress'")
    log_in(page, server.base_url, "manager")
    stats = api(shop, "GET", "/api/dashboard/stats", "manager")[2]
    wait_for(page, lambda d: len(by_css(d, ".chart")) == 2 and by_css(d, "#overdue-jobs table"))
    assert tile_values(page) == expected_tiles(stats)
    timers = api(shop, "GET", "/api/reports/running-timers", "manager")[2]
    wait_for(page, lambda d: by_css(d, "#running-timers table"))
    assert texts(page, "#running-timers caption") == [f"Timers left running: {timers['total']}"]
    assert timers["total"] >= 1 and texts(page, "#running-timers tbody td a")[0] == timers["items"][0]["job_number"]
    overdue = api(shop, "GET", "/api/dashboard/overdue-jobs", "manager")[2]
    # what needs action first, in the API's order, then the ones on hold apart
    assert texts(page, "#overdue-jobs tbody tr td:first-child a") == [
        job["job_number"] for job in overdue["items"] + overdue["on_hold"]]
    assert overdue["items"]
    screenshot(page, str(SCREENSHOTS / "dashboard.png"))
    assert_clean(page, server.base_url)

    customer = api(shop, "POST", "/api/customers", "manager", {"name": XSS_NAME})[2]
    created_at = time.monotonic()
    status, _, job = api(shop, "POST", "/api/jobs", "manager",
                         {"customer_id": customer["id"], "title": "Rush job <b>now</b>", "status": "active"})
    assert status == 201
    wait_for(page, lambda d: job["job_number"] in texts(d, "#recent-jobs td a"),
             timeout=5, message="the new job did not show within 5 s")
    print(f"\nnew job on the open dashboard after {time.monotonic() - created_at:.2f} s")
    cells = next(cells for cells in rows(page, "#recent-jobs tbody tr") if cells[0] == job["job_number"])
    assert cells[1] == "Rush job <b>now</b>" and cells[2] == XSS_NAME  # shown as the characters
    assert not by_css(page, "main img, main b")  # nothing was parsed as markup
    assert tile_values(page)["jobs.total"] == stats["jobs"]["total"] + 1
    assert page.execute_script("return document.querySelector('.notice.error') === null")
    assert_clean(page, server.base_url)


def test_operator_starts_and_completes_while_a_second_tab_gets_412(page, shop):
    server = shop[0]
    log_in(page, server.base_url, "operator1")
    wait_for(page, lambda d: by_css(d, "#queue article.step-card"))
    mine = api(shop, "GET", "/api/me/steps", "operator1")[2]["items"]
    first = by_css(page, "main article.step-card")[0]  # the step being worked: in Working now
    assert int(first.get_attribute("data-step-id")) == mine[0]["id"]
    assert mine[0]["job_number"] in first.text and mine[0]["customer_name"] in first.text
    unread = api(shop, "GET", "/api/notifications?unread=true", "operator1")[2]
    assert texts(page, "#unread-count") == [str(unread["unread"])] and unread["unread"] == 2
    by_css(page, "#notifications summary")[0].click()  # collapsed beside the heading until asked for
    assert texts(page, "#notifications li a") == [item["message"] for item in unread["items"]]
    screenshot(page, str(SCREENSHOTS / "operator-queue.png"))
    page.set_window_size(1280, 900)

    pending = next(step for step in mine if step["status"] == "pending")
    row = f"main article[data-step-id='{pending['id']}']"
    tab_a = page.current_window_handle
    page.switch_to.new_window("tab")
    log_in(page, server.base_url, "operator1")  # a second tab: its own login (sessionStorage is per tab)
    wait_for(page, lambda d: by_css(d, f"{row} button[data-move=in_progress]"))
    tab_b = page.current_window_handle

    page.switch_to.window(tab_a)
    by_css(page, f"{row} button[data-move=in_progress]")[0].click()
    wait_for(page, lambda d: by_css(d, f"{row}[data-status=in_progress]"), message="tab A: not started")
    assert api(shop, "GET", f"/api/steps/{pending['id']}", "operator1")[2]["status"] == "in_progress"

    page.switch_to.window(tab_b)  # still shows the step pending, with the ETag it was read with
    by_css(page, f"{row} button[data-move=in_progress]")[0].click()
    wait_for(page, lambda d: by_css(d, ".notice.warn"), message="tab B: no 412 message")
    assert "Someone else changed" in by_css(page, ".notice.warn")[0].text
    wait_for(page, lambda d: by_css(d, f"{row}.changed[data-status=in_progress] button[data-move=completed]"),
             message="tab B: the row was not reloaded")
    by_css(page, f"{row} button[data-move=completed]")[0].click()
    wait_for(page, lambda d: by_css(d, f"{row}[data-status=completed]"), message="tab B: not completed")
    assert api(shop, "GET", f"/api/steps/{pending['id']}", "operator1")[2]["status"] == "completed"
    # The 412 is the expected path here: the browser reports the refused request, nothing else.
    assert [line for line in console_errors(page) if "412" not in line] == []
    assert foreign_requests(page, server.base_url) == []


def test_viewer_is_offered_nothing_the_api_would_refuse(page, shop):
    server, ids = shop[0], shop[3]
    log_in(page, server.base_url, "viewer")
    assert tile_values(page) == expected_tiles(api(shop, "GET", "/api/dashboard/stats", "viewer")[2])
    page.get(f"{server.base_url}/#/jobs/{ids['jobs'][0]}")
    wait_for(page, lambda d: by_css(d, "#job-progress"))
    assert not by_css(page, "main button, main select")
    page.get(f"{server.base_url}/#/machines")
    wait_for(page, lambda d: len(texts(d, "main tbody tr")) == len(ids["machines"]))
    page.get(f"{server.base_url}/#/machines/{ids['machines'][0]}")
    wait_for(page, lambda d: by_css(d, "#machine-queue article.step-card"))
    assert not by_css(page, "main button:not([hidden]), main select")
    assert_clean(page, server.base_url)


def test_login_and_logout_with_the_keyboard_alone(page, shop):
    server = shop[0]
    page.get(server.base_url + "/")
    wait_for(page, lambda d: d.execute_script("return document.activeElement.id") == "username")
    ActionChains(page).send_keys("manager", Keys.TAB, "demo", Keys.ENTER).perform()
    wait_for(page, lambda d: by_css(d, ".tile"), message="no dashboard after a keyboard login")
    # A new view takes the focus (screen readers start there); the bar with Log out is just before it.
    assert page.execute_script("return document.activeElement.id") == "main"
    for _ in range(6):
        ActionChains(page).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        if page.execute_script("return document.activeElement.id") == "logout":
            break
    ActionChains(page).send_keys(Keys.ENTER).perform()
    wait_for(page, lambda d: by_css(d, "#username"), message="no login form after a keyboard logout")
    assert_clean(page, server.base_url)


def test_manager_changes_a_jobs_status_on_its_page(page, shop):
    server, ids = shop[0], shop[3]
    job_id = ids["jobs"][1]  # active
    log_in(page, server.base_url, "manager")
    page.get(f"{server.base_url}/#/jobs/{job_id}")
    wait_for(page, lambda d: by_css(d, "#job-status"))
    job = api(shop, "GET", f"/api/jobs/{job_id}", "manager")[2]
    assert f"{job['steps_completed']} of {job['steps_total']} steps done" in page.find_element("css selector",
                                                                                              ".facts").text
    Select(by_css(page, "#job-status")[0]).select_by_value("on_hold")
    by_css(page, "form.inline button[type=submit]")[0].click()
    wait_for(page, lambda d: "on hold" in d.find_element("css selector", "#job-status-value").text.lower())
    assert api(shop, "GET", f"/api/jobs/{job_id}", "manager")[2]["status"] == "on_hold"

    step = api(shop, "GET", f"/api/jobs/{job_id}", "manager")[2]["steps"][1]
    operator2 = shop[1].user_id("operator2")
    for _ in range(5):  # the page redraws after the status change: take the select it shows now
        try:
            Select(by_css(page, f"#assign-{step['id']}")[0]).select_by_value(str(operator2))
            break
        except StaleElementReferenceException:
            time.sleep(0.2)
    wait_for(page, lambda d: api(shop, "GET", f"/api/steps/{step['id']}", "manager")[2]["assigned_to"] == operator2,
             message="the step was not reassigned")
    assert_clean(page, server.base_url)


def test_phone_and_tablet_widths_fit_without_sideways_scrolling(page, shop):
    server = shop[0]
    page.set_window_size(390, 844)
    log_in(page, server.base_url, "manager")
    wait_for(page, lambda d: len(by_css(d, ".chart")) == 2)
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, str(SCREENSHOTS / "dashboard-phone.png"), whole=False)
    assert_clean(page, server.base_url)
    by_css(page, "#logout")[0].click()
    wait_for(page, lambda d: by_css(d, "#username"))
    for width, height in ((390, 844), (768, 1024)):  # a phone, then a tablet upright by the machine
        page.set_window_size(width, height)
        page.get(server.base_url + "/static/icon.svg")
        log_in(page, server.base_url, "operator1")
        wait_for(page, lambda d: by_css(d, "main article.step-card button"))
        assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), width
        # nor inside the queue: every button can be reached without scrolling it sideways
        assert page.execute_script("const w = document.querySelector('#queue');"
                                   " return w.scrollWidth <= w.clientWidth"), width
        screenshot(page, str(SCREENSHOTS / f"operator-queue-{width}.png"), whole=False)
        by_css(page, "#logout")[0].click()
        wait_for(page, lambda d: by_css(d, "#username"))
    assert_clean(page, server.base_url)


def test_logout_ends_the_session_and_back_shows_no_data(page, shop):
    server, conn = shop[0], shop[2]
    log_in(page, server.base_url, "admin")
    assert by_css(page, ".tile")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                    "WHERE u.username = 'admin' AND s.ended_at IS NULL")
        live_before = cur.fetchone()[0]
    by_css(page, "#logout")[0].click()
    wait_for(page, lambda d: by_css(d, "#username"))
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                    "WHERE u.username = 'admin' AND s.ended_at IS NULL")
        assert cur.fetchone()[0] == live_before - 1  # the API's logout ended it
    page.back()
    time.sleep(1)
    assert not by_css(page, ".tile, table, .chart") and by_css(page, "#username")
    assert page.execute_script("return sessionStorage.length") == 0
    assert_clean(page, server.base_url)


def test_database_down_says_so_and_retries(browser, shop):
    auth = shop[1]
    with GunicornServer(NO_DATABASE, workers=1, threads=2) as server:
        browser.get(server.base_url + "/static/icon.svg")
        browser.execute_script("sessionStorage.setItem('printshop.refresh', arguments[0])",
                               auth.token("manager", refresh=True))
        browser.get(server.base_url + "/")
        wait_for(browser, lambda d: by_css(d, ".notice.error"), message="no error state")
        text = by_css(browser, ".notice.error")[0].text
        assert "database is unavailable" in text and "Retrying" in text
        started = time.monotonic()
        # It keeps trying by itself: the message is drawn again for the next attempt.
        wait_for(browser, lambda d: browser.execute_script(
            "return performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/auth/refresh'))"
            ".length") >= 2, timeout=10, message="no automatic retry")
        assert time.monotonic() - started < 10
        console_errors(browser)  # the 503s are expected here
