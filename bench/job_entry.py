"""Entering a job through the page to its row on another open dashboard, in seconds.

    .venv/bin/python -m bench.job_entry --jobs 10000 --rounds 5

Two real headless Chromiums (tests/support/browser.py) against gunicorn (2 workers x 4 threads, the default
cache TTLs) over a seeded data set: one manager keeps the dashboard open, the other fills the New job form
(customer, title, one step) and presses Save. Timed from the Save click: until the form's browser shows the
new job's page (the POST and the redirect), and until the job's title is in the open dashboard's "Recent
jobs" table (the write, the cache invalidation across workers, and the dashboard's next conditional poll).
The clock is this process's, read between WebDriver polls of 20 ms: the figures are good to about 50 ms.
"""
import argparse
import statistics
import time

from bench.harness import database_server, say, seeded_database
from tests.support.browser import by_css, chromium, wait_for
from tests.support.gunicorn import GunicornServer

SETTINGS = {"RATE_LIMITS_ENABLED": "false", "OVERDUE_CHECK_SECONDS": "0"}
IN_RECENT = "const t = document.getElementById('recent-jobs'); return Boolean(t && t.innerText.includes(arguments[0]))"


def _session(driver, server, route):
    """Open `route` in `driver` as the manager (a refresh token handed to the tab) and wait until it loads."""
    status, _, body = server.request("POST", "/api/auth/login", {"username": "manager", "password": "demo"})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    driver.get(server.base_url + "/static/icon.svg")
    driver.execute_script("sessionStorage.setItem('printshop.refresh', arguments[0])", body["refresh_token"])
    driver.get(f"{server.base_url}/#{route}")
    wait_for(driver, lambda d: not by_css(d, "main[aria-busy=true]"), timeout=60, message=f"{route} did not load")


def _fill(driver, term, title):
    """Fill the New job form: the first customer matching `term`, `title`, one step (the first process)."""
    from selenium.webdriver.support.ui import Select

    driver.get(driver.current_url.split("#")[0] + "#/jobs/new")
    wait_for(driver, lambda d: by_css(d, "#job-title"), timeout=60, message="no form")
    by_css(driver, "#job-customer")[0].send_keys(term)
    wait_for(driver, lambda d: by_css(d, "#customer-results button.choice"), message="no customer found")[0].click()
    by_css(driver, "#job-title")[0].send_keys(title)
    driver.find_element("xpath", '//button[normalize-space()="Add step"]').click()
    Select(by_css(driver, "#step-0-process_id")[0]).select_by_index(1)


def measure(url, rounds):
    """Serve `url` under gunicorn; return [(seconds to the job's page, seconds to the dashboard row)]."""
    server = GunicornServer(url, workers=2, threads=4, env=SETTINGS).start(timeout=60)
    try:
        status, _, login = server.request("POST", "/api/auth/login", {"username": "manager", "password": "demo"})
        token = {"Authorization": f"Bearer {login['access_token']}"}
        customer = server.request("GET", "/api/customers?per_page=1", headers=token)[2]["items"][0]["name"]
        term = next(word for word in customer.split() if len(word) >= 3)
        with chromium() as board, chromium() as desk:
            _session(board, server, "/dashboard")
            _session(desk, server, "/jobs")
            times = []
            for number in range(rounds):
                title = f"Bench entry {time.time_ns()}"
                _fill(desk, term, title)
                start = time.monotonic()
                desk.find_element("xpath", '//button[normalize-space()="Save"]').click()
                wait_for(desk, lambda d: d.execute_script(r"return /^#\/jobs\/\d+$/.test(location.hash)"),
                         timeout=60, message="no job page after Save")
                saved = time.monotonic() - start
                wait_for(board, lambda d, title=title: d.execute_script(IN_RECENT, title), timeout=60,
                         message="the job never showed on the open dashboard")
                shown = time.monotonic() - start
                say(f"job entry round {number + 1}: saved {saved:.2f} s, on the dashboard {shown:.2f} s")
                times.append((saved, shown))
    finally:
        server.stop()
    return times


def markdown(times, jobs):
    """Return the figures as a markdown section."""
    saved, shown = [run[0] for run in times], [run[1] for run in times]
    return "\n".join([
        f"A job entered through the page over {jobs:,} jobs (two headless Chromiums and gunicorn, 2 workers x 4 "
        "threads, on the same 2 cores), timed from the Save click; median of "
        f"{len(times)} (min-max).", "",
        "| what | seconds |", "|---|---:|",
        f"| Save to the new job's page | {statistics.median(saved):.2f} ({min(saved):.2f}-{max(saved):.2f}) |",
        f"| Save to its row in another open dashboard's Recent jobs | {statistics.median(shown):.2f} "
        f"({min(shown):.2f}-{max(shown):.2f}) |", ""])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with database_server() as server_url:
        url, _ = seeded_database(server_url, f"bench_{args.jobs}", args.jobs)
        print(markdown(measure(url, args.rounds), args.jobs))


if __name__ == "__main__":
    main()
