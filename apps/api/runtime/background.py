"""One stoppable background loop: the shape of every thread a worker runs beside its requests, seven kinds
(pool maintenance, breaker probe, replica monitor, cache listener, heartbeat, overdue scheduler, log writer)."""
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Background:
    """A daemon thread that runs `round()` until stopped, waiting `interval` seconds between rounds.

    `round()` may return a number of seconds to wait before the next round instead (a backoff); an
    exception it raises is logged and the loop goes on, so one bad round never ends the thread.
    `wake`, when given, is called by `stop()` to interrupt a round blocked on something else than
    `wait()` (a select on a socket, say). `run_now()` ends the pause between rounds early, for a loop that
    is told of new work (the log writer's flush).
    """

    def __init__(self, name: str, round: Callable[[], float | None], interval: float,
                 wake: Callable[[], object] | None = None) -> None:
        self.name, self.interval = name, interval
        self._round, self._wake = round, wake
        self._stopping = threading.Event()
        self._soon = threading.Event()  # ends the pause between rounds: set by stop() and run_now()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "Background":
        """Start the thread (the first round runs at once); return self."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the loop to end and wait up to `timeout` seconds for the round in progress to finish."""
        self._stopping.set()
        self._soon.set()
        if self._wake is not None:
            self._wake()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run_now(self) -> None:
        """End the pause before the next round (new work came): it starts at once, or right after this one."""
        self._soon.set()

    @property
    def stopping(self) -> bool:
        """Tell whether stop() was called."""
        return self._stopping.is_set()

    def alive(self) -> bool:
        """Tell whether the thread still runs."""
        return self._thread.is_alive()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds` inside a round; return True at once when the loop is asked to stop."""
        return self._stopping.wait(seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            pause: float | None = None
            try:
                pause = self._round()
            except Exception:  # never let the loop die: the next round tries again
                log.exception("%s: a round failed", self.name)
            self._soon.wait(self.interval if pause is None else pause)
            self._soon.clear()
