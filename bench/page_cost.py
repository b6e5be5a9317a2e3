"""What the web page costs: page load to the first numbers, and an idle open dashboard per minute.

    .venv/bin/python -m bench.page_cost --jobs 50000 --idle-seconds 60
    (and from bench/run.py: its "Web page" section)

A real headless Chromium (tests/support/browser.py) opens the manager's dashboard served by gunicorn
(2 workers, the default cache TTLs) over the seeded data set. Load: from navigation start to the User Timing
mark the dashboard sets when its tiles first show numbers, and the bytes of every response up to then (the
Resource Timing transferSize: headers and body), on a cold browser cache and then on reloads. Idle: the page
left open, counting its requests and bytes, and the server's CPU (master and workers), then the same warm
server with the page closed for as long (heartbeat, cache listener: what the server costs anyway).
"""
import argparse
import statistics
import time

from bench.cpu import server_cpu_seconds
from bench.harness import database_server, say, seeded_database
from tests.support.browser import chromium, wait_for
from tests.support.gunicorn import GunicornServer

SETTINGS = {"RATE_LIMITS_ENABLED": "false", "OVERDUE_CHECK_SECONDS": "0"}
MARK = "first-numbers"
LOAD_FIGURES = """
const mark = performance.getEntriesByName(arguments[0])[0];
if (!mark) return null;
const entries = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .filter(e => e.responseEnd <= mark.startTime);
return {ms: mark.startTime, bytes: entries.reduce((sum, e) => sum + e.transferSize, 0), requests: entries.length};
"""
SINCE = """
return performance.getEntriesByType('resource').filter(e => e.startTime >= arguments[0])
  .map(e => ({name: e.name, bytes: e.transferSize, status: e.responseStatus}));
"""


def _manager_refresh_token(server):
    status, _, body = server.request("POST", "/api/auth/login", {"username": "manager", "password": "demo"})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return body["refresh_token"]


def _open_dashboard(driver, server):
    """Load the dashboard in a tab that holds a session; return the load figures up to the first numbers."""
    driver.get(server.base_url + "/")
    return wait_for(driver, lambda d: d.execute_script(LOAD_FIGURES, MARK), timeout=60,
                    message="the dashboard showed no numbers")


def measure_load(driver, server, reloads):
    """Return {"cold": figures, "warm": [figures per reload]} for the dashboard's first numbers."""
    driver.get(server.base_url + "/static/icon.svg")  # the origin, to hand the tab a session
    driver.execute_script("sessionStorage.setItem('printshop.refresh', arguments[0])", _manager_refresh_token(server))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    # The server was just started, so its per-user cache is cold too: the first load runs the dashboard's
    # queries; the reloads are answered from the cache (or as 304s) like a manager's day on the floor.
    cold = _open_dashboard(driver, server)
    warm = [_open_dashboard(driver, server) for _ in range(reloads)]
    return {"cold": cold, "warm": warm}


def measure_idle(driver, server, seconds):
    """Leave the open dashboard alone for `seconds`; return its requests, bytes and the server's CPU."""
    pid = server.process.pid
    driver.execute_script("performance.setResourceTimingBufferSize(100000)")
    started = driver.execute_script("return performance.now()")
    cpu_before = server_cpu_seconds(pid)
    time.sleep(seconds)
    cpu = server_cpu_seconds(pid) - cpu_before
    entries = driver.execute_script(SINCE, started)
    return {"seconds": seconds, "requests": len(entries), "bytes": sum(e["bytes"] for e in entries),
            "not_modified": sum(1 for e in entries if e["status"] == 304), "cpu": cpu}


def measure_baseline(server, seconds):
    """Return the server's CPU seconds over `seconds` with no page open (heartbeat, cache listener)."""
    before = server_cpu_seconds(server.process.pid)
    time.sleep(seconds)
    return server_cpu_seconds(server.process.pid) - before


def measure(url, idle_seconds=60, reloads=5):
    """Serve `url` under gunicorn and measure the page; return the figures."""
    server = GunicornServer(url, workers=2, threads=4, env=SETTINGS).start(timeout=60)
    try:
        with chromium() as driver:
            say("web page: dashboard load to the first numbers")
            load = measure_load(driver, server, reloads)
            say(f"web page: dashboard open and idle for {idle_seconds} s")
            idle = measure_idle(driver, server, idle_seconds)
            driver.get("about:blank")  # the page closed; the same warm server, alone, for as long
            say(f"web page: server idle {idle_seconds} s with no page open")
            baseline = measure_baseline(server, idle_seconds)
    finally:
        server.stop()
    return {"load": load, "idle": idle, "baseline_cpu": baseline}


def markdown(figures, jobs):
    """Return the figures as a markdown section."""
    load, idle = figures["load"], figures["idle"]
    warm_ms = [run["ms"] for run in load["warm"]]
    warm_bytes = [run["bytes"] for run in load["warm"]]
    per_minute = 60 / idle["seconds"]
    extra_cpu = (idle["cpu"] - figures["baseline_cpu"]) * per_minute
    return "\n".join([
        f"Manager's dashboard over {jobs:,} jobs, headless Chromium on the same 2 cores as gunicorn "
        "(2 workers x 4 threads).", "",
        "| what | figure |", "|---|---:|",
        f"| first load (cold browser and server caches): to the first numbers | {load['cold']['ms']:,.0f} ms, "
        f"{load['cold']['bytes'] / 1024:,.1f} KiB in {load['cold']['requests']} requests |",
        f"| reload (median of {len(warm_ms)}): to the first numbers | {statistics.median(warm_ms):,.0f} ms "
        f"({min(warm_ms):,.0f}-{max(warm_ms):,.0f}), {statistics.median(warm_bytes) / 1024:,.1f} KiB |",
        f"| idle open dashboard: requests per minute | {idle['requests'] * per_minute:,.0f} "
        f"({idle['not_modified'] * per_minute:,.0f} of them 304) |",
        f"| idle open dashboard: bytes per minute (headers and bodies) | "
        f"{idle['bytes'] * per_minute / 1024:,.1f} KiB |",
        f"| idle open dashboard: server CPU per minute | {idle['cpu'] * per_minute * 1000:,.0f} ms "
        f"(no page open: {figures['baseline_cpu'] * per_minute * 1000:,.0f} ms; the page's share "
        f"{extra_cpu * 1000:,.0f} ms, {extra_cpu / 60 * 100:.2f} % of one core; "
        f"{extra_cpu * 1000 / max(idle['requests'] * per_minute, 1):.1f} ms per request) |",
        ""])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--idle-seconds", type=int, default=60)
    args = parser.parse_args(argv)
    with database_server() as server_url:
        url, _ = seeded_database(server_url, f"bench_{args.jobs}", args.jobs)
        print(markdown(measure(url, args.idle_seconds), args.jobs))


if __name__ == "__main__":
    main()
