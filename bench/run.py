"""The benchmark: every optimisation of the original report against its naive twin, in one run.

    make bench                      # BENCH_JOBS=1000000 (about 20 minutes on 2 cores)
    BENCH_QUICK=1 make bench        # 50,000 jobs, shorter runs (a few minutes)
    .venv/bin/python -m bench.run --jobs 200000 --out /tmp/results

Writes bench/results/<date>.md and bench/results/<date>.png (or into --out).
"""
import argparse
import os
import platform
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench import (
    audit_lists,
    boards,
    hot_path,
    http_pairs,
    list_pairs,
    page_cost,
    page_lists,
    report,
    sql_pairs,
    step_times,
)
from bench.harness import database_server, say, seeded_database, standby_of


def settings(args):
    """Return the run's sizes and repeat counts from the arguments and environment."""
    quick = args.quick or os.environ.get("BENCH_QUICK") == "1"
    jobs = args.jobs or int(os.environ.get("BENCH_JOBS", 50_000 if quick else 1_000_000))
    return {
        "quick": quick, "jobs": jobs,
        "sizes": sorted({min(10_000, jobs), min(100_000, jobs), jobs}),
        "search_customers": args.customers or (max(1000, jobs) if quick else 1_000_000),
        "repeat": args.repeat or (7 if quick else 15),
        "wrk_seconds": args.seconds or (2 if quick else 5),
        "wrk_repeats": 1 if quick else 3,
        "burst_rounds": 2 if quick else 5,
        "skip_http": args.skip_http,
        # Audit rows of the two histories of bench/audit_lists.py (the goal: 10M).
        "audit_rows": [min(20_000, jobs * 5), min(200_000, jobs * 50)] if quick else [100_000, 10_000_000],
        # an open dashboard left alone this long, then the server alone as long (bench/page_cost.py)
        "page_idle_seconds": 5 * args.seconds if args.seconds else (30 if quick else 60),
    }


def machine(url):
    """Describe where this ran."""
    import psycopg2

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    conn.close()
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"PostgreSQL {version}")


def run(config):
    """Measure every pair; return (rows, facts)."""
    rows, facts = [], {}
    with database_server() as server_url:
        urls, seed_seconds = {}, {}
        for size in config["sizes"]:
            urls[size], seed_seconds[size] = seeded_database(server_url, f"bench_{size}", size)
        big = urls[config["jobs"]]
        facts["machine"] = machine(big)
        facts["seed"] = ", ".join(f"{size:,} jobs in {seconds:.0f} s" for size, seconds in seed_seconds.items())
        say("in-process pairs")
        rows += sql_pairs.pool_rows(big, config["repeat"])
        scaling, project_ms = sql_pairs.stats_scaling(urls, config["repeat"])
        rows += scaling
        smallest, largest = min(project_ms), max(project_ms)
        facts["o1"] = (f"project stats query at {largest:,} jobs / at {smallest:,} jobs = "
                       f"{project_ms[largest] / project_ms[smallest]:.2f} (goal <= 1.5)")
        rows.append(sql_pairs.four_queries_vs_cte(big, config["repeat"]))
        rows.append(sql_pairs.month_chart(big, config["repeat"]))
        rows += sql_pairs.index_migration(big, config["repeat"])
        rows.append(sql_pairs.work_queue(big, config["repeat"]))
        rows += sql_pairs.trigger_cost(big, config["repeat"])
        say("list queries: old plan vs new at two sizes")
        list_sizes = {size: urls[size] for size in (min(urls), max(urls))}
        facts["lists"] = list_pairs.markdown(list_pairs.measure(list_sizes, config["repeat"]), list_sizes)
        say("every list the page sends, first page and deep (issue 25), and the CSV export")
        exports = [] if config["skip_http"] else page_lists.export(big)
        facts["page_lists"] = page_lists.markdown(page_lists.measure(big, config["repeat"]), exports,
                                                  config["jobs"])
        say("step times report and work queues (issue 26)")
        facts["step_times"] = step_times.measure(big, config["repeat"])
        search_url, _ = seeded_database(server_url, "bench_search", 0, customers=config["search_customers"])
        rows += sql_pairs.customer_search(search_url, config["repeat"])
        say("audit and notifications lists at two sizes of history")
        audit_rows = config["audit_rows"]
        facts["audit_lists"] = audit_lists.markdown(audit_lists.measure(server_url, audit_rows, config["repeat"]),
                                                    audit_rows)
        converted = min(audit_rows[-1], 1_000_000)
        facts["audit_lists"] += (f"\n\nMigration 0080 turned a plain audit_logs of {converted:,} rows into the "
                                 f"partitioned table in {audit_lists.conversion_seconds(server_url, converted):.1f} s.")
        if not config["skip_http"]:
            say("HTTP pairs (gunicorn + wrk)")
            seconds, repeats = config["wrk_seconds"], config["wrk_repeats"]
            # The hot path as a newcomer measures it: make run's server, 5 rounds (quick: 3) rotated.
            rows.append(hot_path.row(*hot_path.measure(big, http_pairs.SECRET, seconds, 3 if config["quick"] else 5)))
            rows.append(http_pairs.pool_vs_connect(big, seconds, repeats))
            rows += http_pairs.single_flight(big, config["burst_rounds"])
            rows += http_pairs.worker_models(big, seconds, repeats)
            with standby_of(server_url, big.rsplit("/", 1)[1]) as standby_url:
                if standby_url:
                    rows.append(http_pairs.replica_reads(big, standby_url, seconds, repeats))
            say("web page: load to the first numbers, idle open dashboard (headless Chromium)")
            facts["page"] = page_cost.markdown(page_cost.measure(big, config["page_idle_seconds"]), config["jobs"])
            say("50 open wall boards while the API is loaded (gunicorn + wrk)")
            board_seconds = max(4, 2 * seconds)
            facts["boards"] = boards.note(boards.measure(urls[min(urls)], board_seconds, 3))
    return rows, facts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="50,000 jobs and short runs (or BENCH_QUICK=1)")
    parser.add_argument("--jobs", type=int, help="largest data set (or BENCH_JOBS; default 1,000,000)")
    parser.add_argument("--customers", type=int, help="customers for the search pair")
    parser.add_argument("--repeat", type=int, help="timed repeats per in-process measurement")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process pairs")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    args = parser.parse_args(argv)
    config = settings(args)
    started = time.monotonic()
    rows, facts = run(config)
    facts["took"] = f"{time.monotonic() - started:.0f} s"
    facts["command"] = " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]) + (
        " (BENCH_QUICK=1)" if os.environ.get("BENCH_QUICK") == "1" else "")
    facts["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{date.today()}{'-quick' if config['quick'] else ''}"
    markdown = report.markdown(rows, facts, config)
    stem.with_suffix(".md").write_text(markdown)
    report.chart(rows, stem.with_suffix(".png"))
    print(markdown)
    say(f"wrote {stem}.md and {stem}.png in {facts['took']}")
    return rows


if __name__ == "__main__":
    main()
