"""What this worker heard of ended sessions, kept until their tokens expire: honoured even on a stale standby.

Every ended session is announced on channel 'session_ended' at its commit (migrations/0120). The cache's
listener hands each notice here at once. While the primary is up, the session check asks the primary and
this memory only repeats what it says; while the primary is down, the check reads a standby that may not
have replayed the end yet, and this memory is what keeps a logout, a revocation, a deactivation or a role
change in force. What it cannot hold is a notice never heard: see SECURITY.md, "Fourth pass".
"""
import logging
import threading
import time
import uuid

log = logging.getLogger(__name__)

CHANNEL = "session_ended"
MAX_ENTRIES = 200_000  # about 30 MB at worst; a logout storm past it forgets the oldest first


class EndedSessions:
    """Session ids this worker heard end, each until every token of that session has expired."""

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self.heard = 0
        self._until: dict[str, float] = {}  # sid -> monotonic time after which no token of it is valid
        self._lock = threading.Lock()

    def note(self, payload: str) -> None:
        """Remember that session `payload` (its id) ended; ignore anything that is not a session id."""
        try:
            sid = str(uuid.UUID(payload.strip()))
        except (AttributeError, ValueError):
            log.warning("ignoring a %s notice that is not a session id", CHANNEL)
            return
        now = time.monotonic()
        with self._lock:
            if len(self._until) >= MAX_ENTRIES:
                self._until = {key: until for key, until in self._until.items() if until > now}
                while len(self._until) >= MAX_ENTRIES:
                    self._until.pop(next(iter(self._until)))
            self._until[sid] = now + self.keep_seconds
            self.heard += 1

    def ended(self, sid: object) -> bool:
        """Tell whether this worker heard session `sid` end (and its tokens may still be presented)."""
        if not isinstance(sid, str):
            return False
        until = self._until.get(sid)
        return until is not None and until > time.monotonic()

    def __len__(self) -> int:
        return len(self._until)
