"""Every page, in a real Chromium against gunicorn, at phone, tablet and desk width: axe-core (WCAG 2.2 AA rules)
finds nothing serious or critical, and nothing scrolls sideways with a 200-character customer name and a long
unbroken word (a URL) as a job's title. One browser visits each page once and resizes between the widths.
"""
import pytest

from tests.support.apps import module_app
from tests.support.axe import grave_violations, sideways
from tests.support.browser import by_css, chromium, log_in, wait_for
from tests.support.gunicorn import page_server
from tests.support.shop_floor import arrange_long_names, arrange_shop

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WIDTHS = (390, 768, 1280)


@pytest.fixture(scope="module")
def shop(test_database):
    with module_app(test_database) as (app, auth, conn):
        operator = auth.user_id("operator1")
        ids = arrange_shop(conn, operator)
        ids.update(arrange_long_names(conn, operator, ids["machines"][0]))
        with page_server(test_database[0]) as server:
            yield server.base_url, ids


def settled(driver):
    """Wait until the view has its data and no view is loading."""
    wait_for(driver, lambda d: not by_css(d, "main[aria-busy=true]") and not by_css(d, "main .loading"),
             message="the view did not load")


def visit_all_widths(driver, where, found):
    for width in WIDTHS:
        driver.set_window_size(width, 900)
        driver.execute_script("return new Promise((done) => requestAnimationFrame(() => done()))")
        found["axe"] += grave_violations(driver, f"{where} at {width} px")
        overflow = sideways(driver)
        if overflow:
            found["sideways"].append(f"{where} at {width} px scrolls {overflow} px sideways")


@pytest.fixture(scope="module")
def findings(shop):
    """Visit every page (jobs list, new job, ticket, reports and devices too) as the role that uses it; return
    what axe found and what scrolled sideways."""
    base_url, ids = shop
    job, customer, machine = ids["job"], ids["customer"], ids["machines"][0]
    routes = ["/dashboard", "/jobs", "/jobs/new", f"/jobs/{job}", f"/jobs/{job}/ticket", "/customers",
              f"/customers/{customer}", "/machines", f"/machines/{machine}", "/people", "/reports", "/devices"]
    found = {"axe": [], "sideways": [], "visited": []}
    with chromium() as driver:
        driver.get(base_url + "/")
        wait_for(driver, lambda d: by_css(d, "#username"), message="no login form")
        visit_all_widths(driver, "login", found)
        driver.set_window_size(1280, 900)
        log_in(driver, base_url, "admin")
        for route in routes:
            driver.get(f"{base_url}/#{route}")
            settled(driver)
            found["visited"].append(driver.execute_script("return location.hash"))
            visit_all_widths(driver, route, found)
        driver.get(f"{base_url}/#/dashboard")
        settled(driver)
        driver.set_window_size(390, 900)
        # Seven digits and more in every tile (a million jobs): each number must fit its tile.
        found["clipped"] = driver.execute_script(
            "const values = Array.from(document.querySelectorAll('.tile .value'));"
            "values.forEach((v) => { v.textContent = (10003000).toLocaleString(); });"
            "return values.filter((v) => v.scrollWidth > v.clientWidth + 1).map((v) => v.parentNode.dataset.stat);")
        found["tiles"] = len(by_css(driver, ".tile .value"))
        driver.execute_script("sessionStorage.clear()")
        driver.set_window_size(1280, 900)
        log_in(driver, base_url, "operator1")
        driver.get(f"{base_url}/#/queue")
        settled(driver)
        found["visited"].append(driver.execute_script("return location.hash"))
        visit_all_widths(driver, "/queue", found)
        # The controls: a planted nameless button and an over-wide block must be reported, or the checks are blind.
        driver.execute_script("const main = document.getElementById('main');"
                              "main.append(document.createElement('button'));"
                              "const wide = document.createElement('div');"
                              "wide.style.width = '2000px'; wide.style.height = '1em';"
                              "main.append(wide);")
        found["planted"] = (grave_violations(driver, "planted"), sideways(driver))
    return found


def test_the_pages_were_visited_with_the_long_names_on_them(findings):
    assert "#/customers" in findings["visited"] and "#/people" in findings["visited"]
    assert "#/queue" in findings["visited"]
    for route in ("#/jobs", "#/jobs/new", "#/reports", "#/devices"):
        assert route in findings["visited"]


def test_the_checks_see_a_planted_fault(findings):
    violations, overflow = findings["planted"]
    assert any("button-name" in violation for violation in violations)
    assert overflow > 0


def test_ten_digit_numbers_fit_their_tiles_at_390_px(findings):
    assert findings["tiles"] >= 10 and findings["clipped"] == []


def test_axe_finds_nothing_serious_or_critical_on_any_page(findings):
    assert findings["axe"] == []


def test_no_page_scrolls_sideways_with_a_200_character_name(findings):
    assert findings["sideways"] == []
