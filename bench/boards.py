"""What 50 open wall boards cost the API (issue 28): its p99 under load with and without them.

The service runs under gunicorn as in production (2 gthread workers x 8 threads). wrk loads the API
(GET /api/jobs, a viewer, 8 connections) while a writer changes a running step every 2 s (a floor at work, so
boards do fetch new answers). Fifty boards then poll as static/board.js does: GET /api/board every second
with If-None-Match on a kept-alive connection, each from its own thread at a random phase. Rounds alternate
without and with the boards; the p99s are taken per round, side by side.

    .venv/bin/python -m bench.boards [seconds per run, 8] [rounds, 3] [boards, 50]
"""
import http.client
import random
import statistics
import sys
import threading
import time

import psycopg2

from bench.harness import say, wrk
from bench.http_pairs import serve, token

API_ROUTE = "/api/jobs?per_page=20"
BOARD_EVERY = 1.0
WRITE_EVERY = 2.0


class Boards:
    """`count` boards polling GET /api/board as the page does, until stopped; their answers counted."""

    def __init__(self, port, board_token, count):
        self.port, self.headers, self.count = port, {"Authorization": f"Bearer {board_token}"}, count
        self.stopping = threading.Event()
        self.statuses, self.latencies, self.lock = {}, [], threading.Lock()
        self.threads = [threading.Thread(target=self._poll, daemon=True) for _ in range(count)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(5)

    def _poll(self):
        conn, etag = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10), None
        self.stopping.wait(random.uniform(0, BOARD_EVERY))
        while not self.stopping.is_set():
            started = time.perf_counter()
            headers = dict(self.headers, **({"If-None-Match": etag} if etag else {}))
            try:
                conn.request("GET", "/api/board", headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                etag = response.getheader("ETag") or etag
            except OSError:
                conn.close()
                conn, status = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10), 0
            took = time.perf_counter() - started
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.latencies.append(took * 1000)
            self.stopping.wait(max(0.0, BOARD_EVERY - took))
        conn.close()


def _writer(url, stopping):
    """Change one running step every WRITE_EVERY seconds (its NOTIFY drops every worker's board answer)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        while not stopping.wait(WRITE_EVERY):
            cur.execute("UPDATE job_steps SET started_at = now() WHERE id = (SELECT id FROM job_steps "
                        "WHERE status = 'in_progress' ORDER BY random() LIMIT 1)")
    conn.close()


def measure(url, seconds=8, rounds=3, boards=50):
    """Return {"without": [wrk runs], "with": [wrk runs], "boards": {statuses, p50/p99 ms}}."""
    runs, board_stats = {"without": [], "with": []}, {}
    with serve(url, workers=2, threads=8) as server:
        manager = token(server, "manager")
        status, _, device = server.request("POST", "/api/devices", {"name": "bench board", "kind": "board"}, manager)
        if status != 201:
            raise RuntimeError(f"registering a board answered {status}: {device}")
        viewer = token(server, "viewer")
        stopping = threading.Event()
        writer = threading.Thread(target=_writer, args=(url, stopping), daemon=True)
        writer.start()
        wrk(server.base_url + API_ROUTE, 2, 8, headers=viewer)  # warm up
        try:
            for index in range(rounds):
                order = ("without", "with") if index % 2 == 0 else ("with", "without")
                for phase in order:
                    if phase == "without":
                        runs[phase].append(wrk(server.base_url + API_ROUTE, seconds, 8, headers=viewer))
                        continue
                    with Boards(server.port, device["token"], boards) as polling:
                        time.sleep(BOARD_EVERY)
                        runs[phase].append(wrk(server.base_url + API_ROUTE, seconds, 8, headers=viewer))
                    for code, count in polling.statuses.items():
                        board_stats[code] = board_stats.get(code, 0) + count
                    board_stats.setdefault("latencies", []).extend(polling.latencies)
        finally:
            stopping.set()
            writer.join(5)
    latencies = sorted(board_stats.pop("latencies", [0]))
    board_stats["p50_ms"] = statistics.median(latencies)
    board_stats["p99_ms"] = latencies[int(0.99 * (len(latencies) - 1))]
    return {"without": runs["without"], "with": runs["with"], "boards": board_stats}


def note(result, boards=50):
    """Say the measurement in one paragraph."""
    def summary(key, phase):
        values = [run[key] for run in result[phase]]
        return statistics.median(values), min(values), max(values)
    p99_without, p99_with = summary("p99_ms", "without"), summary("p99_ms", "with")
    rps_without, rps_with = summary("rps", "without"), summary("rps", "with")
    ratios = [w["p99_ms"] / wo["p99_ms"] for w, wo in zip(result["with"], result["without"])]
    board = result["boards"]
    answers = {code: count for code, count in board.items() if isinstance(code, int)}
    return (f"API {API_ROUTE} (wrk, 8 connections; 2 workers x 8 threads; a step changed every {WRITE_EVERY:.0f} s): "
            f"p99 {p99_without[0]:.1f} ms without boards (rounds {p99_without[1]:.1f}-{p99_without[2]:.1f}), "
            f"{p99_with[0]:.1f} ms with {boards} boards polling every {BOARD_EVERY:.0f} s "
            f"(rounds {p99_with[1]:.1f}-{p99_with[2]:.1f}); p99 ratio per round "
            f"{min(ratios):.2f}-{max(ratios):.2f}; req/s {rps_without[0]:,.0f} vs {rps_with[0]:,.0f}. "
            f"Board answers {answers} (304: unchanged), board p50 {board['p50_ms']:.1f} ms, "
            f"p99 {board['p99_ms']:.1f} ms.")


def main(argv=None):
    """Measure on 10,000 jobs of its own database; print the note."""
    from bench.harness import database_server, seeded_database

    given = [int(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    seconds, rounds, boards = (given + [8, 3, 50][len(given):])[:3]
    with database_server() as server_url:
        url, _ = seeded_database(server_url, "bench_boards", 10_000)
        say(f"boards: {rounds} rounds of {seconds} s, {boards} boards")
        print(note(measure(url, seconds, rounds, boards), boards))


if __name__ == "__main__":
    main()
