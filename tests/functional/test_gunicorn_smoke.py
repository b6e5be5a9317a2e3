"""The app under a real gunicorn: several workers serve, and stop cleanly."""
import pytest

from tests.support.gunicorn import GunicornServer

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]


def test_gunicorn_workers_serve_health_and_ready(database_url):
    with GunicornServer(database_url, workers=2) as server:
        assert len(server.worker_pids()) == 2
        for _ in range(10):
            assert server.request("GET", "/api/health/ready")[0] == 200
    assert server.process.returncode == 0
