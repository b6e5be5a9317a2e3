"""The pool under a real gunicorn: one pool per worker, opened after fork, and a small pool shared by threads."""
import json
import threading

import pytest

from tests.support.auth import AuthActions
from tests.support.gunicorn import GunicornServer

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]


def test_each_worker_has_its_own_pool_and_threads_wait_for_its_connection(app, database_url):
    headers = AuthActions(app, database_url).headers("admin")  # pids: admins only
    env = {"DB_POOL_MIN_CONNECTIONS": "1", "DB_POOL_MAX_CONNECTIONS": "1", "DB_POOL_TIMEOUT": "5"}
    with GunicornServer(database_url, workers=2, threads=4, env=env) as server:
        workers = set(server.worker_pids())
        answers, lock = [], threading.Lock()

        def hammer():
            for _ in range(15):
                status, response_headers, body = server.request("GET", "/api/health/db/test", headers=headers)
                with lock:
                    answers.append((status, response_headers.get("Retry-After")))

        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # 8 clients on 2 workers x 4 threads, one connection per worker: they queue, none fails.
        assert len(answers) == 120 and {status for status, _ in answers} == {200}

        seen = {}
        for _ in range(40):
            status, _, body = server.request("GET", "/api/health/db", headers=headers)
            assert status == 200, json.dumps(body)
            seen[body["pool_stats"]["pid"]] = body
            if len(seen) == len(workers):
                break
    assert set(seen) == workers  # every pool was opened in its own worker, after fork
    for body in seen.values():
        stats = body["pool_stats"]
        assert stats["max_connections"] == 1 and stats["in_use"] == 0 and stats["requests_errors"] == 0
        assert any("pool max 1 < 4 threads per worker" in advice for advice in body["recommendations"])
    assert sum(body["pool_stats"]["requests_queued"] for body in seen.values()) > 0
