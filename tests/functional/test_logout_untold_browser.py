"""A logout the server cannot be told of: the page drops its tokens at once, says so plainly, and tells the
server when it can (a real Chromium against the real service under gunicorn; the logout call is blocked in
the browser's network stack, then let through)."""
import pytest

from tests.support.apps import module_app
from tests.support.browser import by_css, chromium, console_errors, log_in, wait_for
from tests.support.gunicorn import GunicornServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(test_database):
    with module_app(test_database) as (app, auth, conn):
        with GunicornServer(test_database[0], workers=1, env={"RATE_LIMITS_ENABLED": "false",
                                                              "OVERDUE_CHECK_SECONDS": "0"}) as server:
            with chromium() as driver:
                yield server, conn, driver


def live_sessions(conn, username):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                    "WHERE u.username = %s AND s.ended_at IS NULL", (username,))
        return cur.fetchone()[0]


def hint(driver):
    found = by_css(driver, "form.login .hint, .hint")
    return found[0].text if found else ""


def test_an_untold_logout_drops_the_tokens_says_so_and_is_retried_until_told(served):
    server, conn, driver = served
    log_in(driver, server.base_url, "operator2")
    assert live_sessions(conn, "operator2") == 1
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/auth/logout/refresh"]})
    by_css(driver, "#logout")[0].click()
    wait_for(driver, lambda d: "could not be told" in hint(d), message="the page did not say the server was not told")
    assert by_css(driver, "#username"), "the login form shows"
    tokens = driver.execute_script("return [sessionStorage.getItem('printshop.refresh'), "
                                   "localStorage.getItem('printshop.pending-logout')]")
    assert tokens[0] is None and tokens[1], "the session is gone from the page; its refresh token waits aside"
    assert live_sessions(conn, "operator2") == 1  # the server was indeed not told

    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    wait_for(driver, lambda d: "has been told" in hint(d), timeout=15, message="the logout was never retried")
    assert live_sessions(conn, "operator2") == 0
    assert driver.execute_script("return localStorage.getItem('printshop.pending-logout')") is None
    assert not [message for message in console_errors(driver) if "logout/refresh" not in message]
