"""One worker's store of serialized answers: TTL + LRU, single flight on a miss, stale while refreshing.

An entry is one serialized JSON answer under the key route + user id + role + normalized query.
The store is a cachetools TLRU cache (LRU eviction at CACHE_MAX_ENTRIES, expired entries swept).
On a miss, one request per key queries while the others wait for its answer (single flight); past
its TTL an entry is still served, flagged stale, while one request refreshes it. An entry is stored
only while this worker's listener (listener.py) receives invalidations, and a notification that
arrives while an answer is being computed keeps that answer out of the store.
"""
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from cachetools import Cache, TLRUCache

from .listener import Listener

# Waiters give up on a flight after this long and compute the answer themselves.
FLIGHT_WAIT_SECONDS = 30.0
# Past its TTL an entry may be served stale, while one request refreshes it, for this many TTLs more.
STALE_TTLS = 1.0
LISTENER_START_WAIT_SECONDS = 2.0
COUNTERS = ("hits", "stale_hits", "coalesced", "misses", "loads")


class Entry:
    """One cached answer: the JSON body, its ETag, and until when it is fresh and servable."""

    __slots__ = ("body", "etag", "built_at", "fresh_until", "stale_until")

    def __init__(self, body: bytes, ttl: float) -> None:
        self.body = body
        self.etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        self.built_at = time.monotonic()
        self.fresh_until = self.built_at + ttl
        self.stale_until = self.fresh_until + ttl * STALE_TTLS


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.entry: Entry | None = None
        self.error: BaseException | None = None
        self.invalidated = False


class _Store(TLRUCache[str, Entry]):
    """A TLRU cache that counts LRU evictions and can list its entries without reordering them."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize, ttu=lambda key, entry, now: entry.stale_until)
        self.evictions = 0

    def popitem(self) -> tuple[str, Entry]:
        item = super().popitem()
        self.evictions += 1
        return item

    def clear(self) -> None:
        evictions = self.evictions
        super().clear()
        self.evictions = evictions

    def peek_items(self) -> list[tuple[str, Entry]]:
        """Return every held (key, entry), unswept expired ones included, leaving the LRU order alone."""
        return [(key, Cache.__getitem__(self, key)) for key in list(Cache.__iter__(self))]


class ResponseCache:
    """One worker's cache of serialized answers."""

    def __init__(self, max_entries: int, database_url: str, single_flight: bool = True,
                 notices: Mapping[str, Callable[[str], object]] | None = None,
                 config: Mapping[str, Any] | None = None) -> None:
        self.pid = os.getpid()
        self.single_flight = single_flight
        self.booted_at = datetime.now(UTC)
        self.max_entries = max_entries
        self._store = _Store(max_entries)
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self._counts: dict[str, dict[str, int]] = {}
        # When invalidations last arrived: an answer loaded after it must not come from a replica that
        # has not replayed what they announced (it would be stored stale for a whole TTL).
        self.invalidated_at = 0.0
        self.listener = Listener(database_url, self.invalidate_prefixes, on_idle=self.sweep, notices=notices,
                                 config=config)

    def start(self) -> "ResponseCache":
        """Start listening; wait briefly so the first answers can already be cached."""
        self.listener.start(wait=LISTENER_START_WAIT_SECONDS)
        return self

    def close(self) -> None:
        """Stop listening; nothing is cached from now on."""
        self.listener.stop()

    def _count(self, route: str, counter: str) -> None:
        counts = self._counts.setdefault(route, dict.fromkeys(COUNTERS, 0))
        counts[counter] += 1

    def fetch(self, key: str, route: str, ttl: float, load: Callable[[], bytes]) -> tuple[Entry, str]:
        """Return (entry, "HIT" | "STALE" | "MISS") for `key`; `load()` returns the body bytes of a miss."""
        for _ in range(3):
            with self._lock:
                entry = self._store.get(key)
                if entry is not None and time.monotonic() < entry.fresh_until:
                    self._count(route, "hits")
                    return entry, "HIT"
                if not self.single_flight:
                    break
                flight = self._flights.get(key)
                if flight is not None and entry is not None:
                    self._count(route, "stale_hits")
                    return entry, "STALE"
                leading = flight is None
                if leading:
                    flight = self._flights[key] = _Flight()
                    self._count(route, "misses")
            assert flight is not None  # found, or made just above
            if leading:
                return self._lead(key, route, ttl, flight, load), "MISS"
            if not flight.done.wait(FLIGHT_WAIT_SECONDS):
                break
            if flight.error is not None:
                raise flight.error
            if flight.entry is not None and not flight.invalidated:
                with self._lock:
                    self._count(route, "coalesced")
                return flight.entry, "HIT"
            # Invalidated while it ran: its answer may predate the write; look again.
        entry = Entry(load(), ttl)
        with self._lock:
            self._count(route, "misses")
            self._count(route, "loads")
            if not self.single_flight and self.listener.listening:
                # The naive cache the benchmark compares with: every concurrent miss loads and stores.
                self._store[key] = entry
        return entry, "MISS"

    def _lead(self, key: str, route: str, ttl: float, flight: _Flight, load: Callable[[], bytes]) -> Entry:
        try:
            entry = Entry(load(), ttl)
        except BaseException as exc:
            flight.error = exc
            raise
        else:
            flight.entry = entry
        finally:
            with self._lock:
                self._flights.pop(key, None)
                self._count(route, "loads")
                if flight.entry is not None and not flight.invalidated and self.listener.listening:
                    self._store[key] = flight.entry
            flight.done.set()
        return entry

    def invalidate(self, prefix: str = "") -> int:
        """Drop the entries whose key starts with `prefix` ("" for all); return how many were dropped."""
        with self._lock:
            for key, flight in self._flights.items():
                if key.startswith(prefix):
                    flight.invalidated = True
            if not prefix:
                dropped = len(self._store)
                self._store.clear()
                return dropped
            keys = [key for key, _ in self._store.peek_items() if key.startswith(prefix)]
            for key in keys:
                try:
                    del self._store[key]
                except KeyError:  # it had expired: TLRUCache removes it and says so
                    pass
            return len(keys)

    def invalidate_prefixes(self, prefixes: Iterable[str]) -> None:
        """Drop the entries under any of `prefixes`, each covered prefix once."""
        self.invalidated_at = time.monotonic()
        ordered = sorted(set(prefixes))
        for index, prefix in enumerate(ordered):
            if not any(prefix.startswith(shorter) for shorter in ordered[:index]):
                self.invalidate(prefix)

    def sweep(self) -> None:
        """Remove expired entries."""
        with self._lock:
            self._store.expire()

    def stats(self, prefix: str = "") -> dict[str, Any]:
        """Return entry counts and counters for keys and routes under `prefix`, and this worker's identity."""
        now = time.monotonic()
        with self._lock:
            held = [(key, entry) for key, entry in self._store.peek_items() if key.startswith(prefix)]
            counts = {route: dict(c) for route, c in self._counts.items()
                      if route.startswith(prefix) or prefix.startswith(route)}
            evictions = self._store.evictions
        by_route = {route: dict(c, entries=0, active_entries=0) for route, c in counts.items()}
        for key, entry in held:
            route = key.split("|", 1)[0]
            counts_of_route = by_route.setdefault(route, dict.fromkeys(COUNTERS + ("entries", "active_entries"), 0))
            counts_of_route["entries"] += 1
            counts_of_route["active_entries"] += now < entry.fresh_until
        totals = {name: sum(c[name] for c in counts.values()) for name in COUNTERS}
        served = totals["hits"] + totals["stale_hits"] + totals["coalesced"]
        active = sum(now < entry.fresh_until for _, entry in held)
        return {
            "prefix": prefix, "total_entries": len(held), "active_entries": active,
            "expired_entries": len(held) - active, "max_entries": self.max_entries,
            **totals, "evictions": evictions,
            "hit_rate": round(served / (served + totals["misses"]), 4) if served + totals["misses"] else None,
            "by_prefix": by_route, "pid": self.pid, "booted_at": self.booted_at.isoformat(),
            "listener": self.listener.status(),
        }
