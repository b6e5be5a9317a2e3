"""?scope=all on /api/health/db and /api/health/cache: every live worker of every instance, from heartbeats.

Two real gunicorn instances on one database; each worker publishes its pool and cache statistics every
0.3 s. Any worker answers for all of them; a killed worker drops out, and its replacement appears.
"""
import os
import signal

import pytest

from tests.support.apps import build_app
from tests.support.auth import AuthActions
from tests.support.gunicorn import GunicornServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]
ENV = {"HEARTBEAT_SECONDS": "0.3", "DB_POOL_MIN_CONNECTIONS": "1", "DB_POOL_MAX_CONNECTIONS": "4"}


def fleet_of(server, headers, path):
    status, _, body = server.request("GET", path, headers=headers)
    assert status == 200, body
    return {(worker["instance"], worker["pid"]): worker for worker in body["workers"]}


def test_any_worker_reports_every_live_worker_of_every_instance(database_url, new_app):
    headers = AuthActions(build_app(database_url), database_url).headers("admin")  # names and pids: admins
    first = GunicornServer(database_url, workers=2, env=dict(ENV, INSTANCE_NAME="blue"))
    second = GunicornServer(database_url, workers=2, env=dict(ENV, INSTANCE_NAME="green"))
    with first, second:
        expected = {("blue", pid) for pid in first.worker_pids()} | {("green", pid) for pid in second.worker_pids()}
        workers = eventually(lambda: (lambda seen: seen if set(seen) == expected else None)(
            fleet_of(first, headers, "/api/health/db?scope=all")), timeout=8.0, step=0.1)
        assert workers and set(workers) == expected, workers
        for worker in workers.values():
            pool = worker["pool"]
            assert pool["pool_max"] == 4 and worker["databases"][0]["role"] == "primary"
            assert worker["age_s"] < 2
        caches = fleet_of(second, headers, "/api/health/cache?scope=all")
        assert set(caches) == expected
        assert all(w["cache_stats"]["listener"]["state"] == "listening" for w in caches.values())
        text = str(caches) + str(workers)
        assert "127.0.0.1" not in text and "postgres@" not in text  # no database address or user

        victim = first.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        replaced = eventually(lambda: len(first.worker_pids()) == 2 and victim not in first.worker_pids(),
                              timeout=8.0, step=0.1)
        assert replaced
        # The replacement boots and publishes, the victim's row goes stale: allow a loaded machine time. The
        # live set is read again each time: a process list taken while gunicorn replaces a worker can be short.
        def live_workers():
            return {("blue", pid) for pid in first.worker_pids()} | {("green", pid) for pid in second.worker_pids()}

        def fleet_is_the_live_workers(path):
            live, seen = live_workers(), fleet_of(second, headers, path)
            return seen if len(live) == 4 and set(seen) == live else None

        workers = eventually(lambda: fleet_is_the_live_workers("/api/health/db?scope=all"), timeout=20.0, step=0.1)
        assert workers and ("blue", victim) not in workers, (live_workers(), fleet_of(second, headers,
                                                                                     "/api/health/db?scope=all"))
        assert eventually(lambda: fleet_is_the_live_workers("/api/health/cache?scope=all"), timeout=5.0, step=0.1)
