"""A test-only cached route whose answer, delay and failure the test controls, counting real loads."""
import threading
import time

from flask import g

from apps.api.web.auth import require_role
from apps.api.web.cached import cached_per_user
from apps.api.web.errors import ApiError
from apps.api.web.validation import Query, accepts


class ProbeQuery(Query):
    n: int | None = None


class Probe:
    """Test-only cached routes whose answer, delay and failure the test controls; counts real loads."""

    def __init__(self, app):
        self.calls = 0
        self.value = 1
        self.delay = 0.0
        self.fail = False
        self.answer = None
        self._lock = threading.Lock()

        def load(query=None):
            with self._lock:
                self.calls += 1
            time.sleep(self.delay)
            if self.fail:
                raise ApiError(503, "The probe is failing.")
            if self.answer is not None:
                return self.answer
            return {"value": self.value, "user": g.user_id}

        # ?n= makes distinct keys (cached routes take validated queries only).
        app.add_url_rule("/api/probe", "probe",
                         require_role("viewer")(accepts(query=ProbeQuery)(cached_per_user(ttl=30)(load))))
        app.add_url_rule("/api/probe-short", "probe_short",
                         require_role("viewer")(cached_per_user(ttl=0.3)(load)))
