"""Why two harnesses disagreed on the hot path: the same cached hit under each one's conditions, side by side.

    .venv/bin/python -m bench.reconcile_hot_path [seconds per run] [rounds]     # its own embedded database

Against the bare app, in rotated rounds: the old bench's server (tests' GunicornServer: APP_ENV=test,
log to /dev/null, cache TTL 300 s, rate limits off) and make run's server with its log in a file and in
/dev/null. Prints server CPU per request and the median of the per-round ratios of each.
"""
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.cpu import alternating, bare_server
from bench.harness import database_server, seeded_database
from bench.hot_path import make_run, viewer_token
from bench.http_pairs import SECRET, serve

ROUTE = "/api/dashboard/stats"


def main(seconds=4, rounds=5):
    """Measure the cached hit under each harness's conditions; print one line per condition."""
    with database_server() as server_url, tempfile.TemporaryDirectory(prefix="printshop-reconcile-") as work:
        url, _ = seeded_database(server_url, "bench_reconcile", 10_000)
        with make_run(url, SECRET, Path(os.devnull)) as quiet, serve(url) as old, \
                make_run(url, SECRET, Path(work) / "make-run.log") as logged:
            headers = viewer_token(logged)
            _, _, body = logged.request("GET", ROUTE, headers=headers)
            with bare_server(SECRET, json.dumps(body).encode()) as bare:
                targets = {"bare": (bare.base_url + ROUTE, bare.process.pid),
                           "old bench (APP_ENV=test, log to /dev/null)": (old.base_url + ROUTE, old.process.pid),
                           "make run, log to /dev/null": (quiet.base_url + ROUTE, quiet.master),
                           "make run, log to a file": (logged.base_url + ROUTE, logged.master)}
                samples = alternating(targets, headers, seconds, rounds)
    for name, runs in samples.items():
        ratios = [run["cpu_us"] / base["cpu_us"] for run, base in zip(runs, samples["bare"])]
        print(f"{name}: {statistics.median(run['cpu_us'] for run in runs):,.0f} µs/request, "
              f"ratio {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
