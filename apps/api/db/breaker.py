"""A circuit breaker per worker for the primary: while it is known to be down, fail at once.

closed: requests connect as usual. A failed connection to the primary (a connect that fails, or a
lent connection that comes back broken) opens it. open: every request that needs the primary gets
PrimaryUnavailable (a 503) in microseconds instead of waiting for a connection attempt or the pool's
timeout; one background probe (half-open: the only one trying) runs `probe()` every PROBE_SECONDS and
closes the breaker at its first success, so writes resume within one probe interval of the primary's
return. Reads meanwhile go to a standby in rotation (see Database.primary_down).
"""
import logging
import threading
import time

from ..runtime.background import Background
from .errors import PrimaryUnavailable

log = logging.getLogger(__name__)

PROBE_SECONDS = 0.2


class Breaker:
    """The primary's state in this process: "closed", "open" or "half_open" (the probe is trying)."""

    def __init__(self, probe, name="primary", probe_seconds=PROBE_SECONDS):
        self.name, self.state = name, "closed"
        self.trips, self.opened_at, self.last_error = 0, None, None
        self._probe, self._probe_seconds = probe, probe_seconds
        self._lock = threading.Lock()
        self._prober = None

    @property
    def is_open(self):
        """Tell whether the primary is known to be down (open or half-open)."""
        return self.state != "closed"

    def check(self):
        """Raise PrimaryUnavailable at once while the breaker is open."""
        if self.state != "closed":
            raise PrimaryUnavailable(f"the {self.name} database is down (since {self.down_for():.1f} s): "
                                     "refused without trying")

    def down_for(self):
        """Return for how many seconds the breaker has been open (0.0 when closed)."""
        opened_at = self.opened_at
        return time.monotonic() - opened_at if self.state != "closed" and opened_at else 0.0

    def trip(self, exc):
        """Open the breaker after a connection failure, and start the one probe that closes it again."""
        with self._lock:
            self.last_error = type(exc).__name__
            if self.state != "closed":
                return
            self.state, self.opened_at, self.trips = "open", time.monotonic(), self.trips + 1
            self._prober = Background(f"breaker-{self.name}", self._try, self._probe_seconds)
            prober = self._prober
        log.warning("%s database unreachable (%s): failing fast until a probe answers", self.name, self.last_error)
        prober.start()

    def _try(self):
        """One half-open attempt: close the breaker when the probe answers."""
        self.state = "half_open"
        try:
            self._probe()
        except Exception as exc:  # still down: stay open, try again next round
            self.state, self.last_error = "open", type(exc).__name__
            return None
        with self._lock:
            down_for, self.state, self.opened_at = self.down_for(), "closed", None
            prober, self._prober = self._prober, None
        log.warning("%s database answers again after %.1f s: breaker closed", self.name, down_for)
        prober.stop()  # from its own thread: ends after this round, no join
        return None

    def stats(self):
        """Return the breaker's state, trips, how long it has been open and the last failure's kind."""
        return {"state": self.state, "trips": self.trips, "open_for_s": round(self.down_for(), 3),
                "last_error": self.last_error}

    def close(self):
        """Stop the probe, if one runs."""
        with self._lock:
            prober, self._prober = self._prober, None
        if prober is not None:
            prober.stop()
