"""A circuit breaker per worker for the primary: while it is known to be down, fail at once.

closed: requests connect as usual. A connect that fails makes it suspect and starts one background
probe: a suspect primary is still tried (PgBouncer or PostgreSQL restarting in well under a second costs
nothing), and when the probe still fails OPEN_AFTER_SECONDS after the first failure, the breaker opens.
A connection opened for a request that breaks at once (PgBouncer let it in, then could not reach the
primary) opens it at once: PgBouncer holds the queries of its older clients meanwhile, so waiting
would only tie up the pool.
open: every request that needs the primary gets PrimaryUnavailable (a 503) in microseconds instead of
waiting for a connection attempt or the pool's timeout, while the probe (half-open: the only one
trying) runs every PROBE_SECONDS and closes the breaker at its first success. Reads meanwhile go to a
standby in rotation (Database.read_only).
"""
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..runtime.background import Background
from .errors import PrimaryUnavailable

log = logging.getLogger(__name__)

PROBE_SECONDS = 0.1  # a closed breaker within about this long of the primary answering again
OPEN_AFTER_SECONDS = 1.0


class Breaker:
    """The primary's state in this process: "closed", "suspect", "open" or "half_open" (the probe tries)."""

    def __init__(self, probe: Callable[[], object], name: str = "primary", probe_seconds: float = PROBE_SECONDS,
                 open_after: float | None = None) -> None:
        self.name, self.state = name, "closed"
        self.trips = 0
        self.opened_at: float | None = None
        self.failing_since: float | None = None
        self.last_error: str | None = None
        self._probe, self._probe_seconds = probe, probe_seconds
        self._open_after = OPEN_AFTER_SECONDS if open_after is None else open_after
        self._lock = threading.Lock()
        self._prober: Background | None = None

    @property
    def is_open(self) -> bool:
        """Tell whether the primary is known to be down (open, or half-open while the probe tries)."""
        return self.state in ("open", "half_open")

    def check(self) -> None:
        """Raise PrimaryUnavailable at once while the breaker is open."""
        if self.is_open:
            raise PrimaryUnavailable(f"the {self.name} database is down (for {self.down_for():.1f} s): "
                                     "refused without trying")

    def down_for(self) -> float:
        """Return for how many seconds the breaker has been open (0.0 when it is not)."""
        opened_at = self.opened_at
        return time.monotonic() - opened_at if self.is_open and opened_at else 0.0

    def trip(self, exc: BaseException, at_once: bool = False) -> None:
        """Note a connection failure: a closed breaker turns suspect (open `at_once`) and starts the probe."""
        with self._lock:
            self.last_error = type(exc).__name__
            if at_once and self.state == "suspect":
                self._open()
            if self.state != "closed":
                return
            self.state, self.failing_since = "suspect", time.monotonic()
            if at_once:
                self._open()
            self._prober = prober = Background(f"breaker-{self.name}", self._try, self._probe_seconds)
        prober.start()

    def succeeded(self) -> None:
        """Note a connection that opened and answered: a suspect primary is fine after all."""
        if self.state != "suspect":
            return
        with self._lock:
            if self.state != "suspect":
                return
            self.state, self.failing_since = "closed", None
            prober, self._prober = self._prober, None
        if prober is not None:
            prober.stop(timeout=0)

    def _open(self) -> None:
        self.state, self.opened_at, self.trips = "open", time.monotonic(), self.trips + 1
        log.warning("%s database unreachable for %.1f s (%s): failing fast until a probe answers",
                    self.name, time.monotonic() - (self.failing_since or time.monotonic()), self.last_error)

    def _try(self) -> None:
        """One probe: close the breaker when the primary answers, open it when it still fails too long."""
        was = self.state
        if was == "open":
            self.state = "half_open"
        try:
            self._probe()
        except Exception as exc:
            self.last_error = type(exc).__name__
            if was == "suspect" and self.failing_since is not None \
                    and time.monotonic() - self.failing_since < self._open_after:
                return None
            with self._lock:
                if self.state == "suspect":
                    self._open()
                elif self.state != "closed":  # closed meanwhile by a connection that worked: keep it
                    self.state = "open"
            return None
        with self._lock:
            down_for = self.down_for()
            self.state, self.opened_at, self.failing_since = "closed", None, None
            prober, self._prober = self._prober, None
        if was != "suspect":
            log.warning("%s database answers again after %.1f s: breaker closed", self.name, down_for)
        if prober is not None:  # None: a request's connection closed the breaker first and stopped it
            prober.stop()  # from its own thread: ends after this round, no join
        return None

    def stats(self) -> dict[str, Any]:
        """Return the breaker's state, trips, how long it has been open and the last failure's kind."""
        return {"state": self.state, "trips": self.trips, "open_for_s": round(self.down_for(), 3),
                "last_error": self.last_error}

    def close(self) -> None:
        """Stop the probe, if one runs."""
        with self._lock:
            prober, self._prober = self._prober, None
        if prober is not None:
            prober.stop()
