"""The per-user response cache of one worker process, kept coherent across workers by LISTEN/NOTIFY.

An entry is one serialized JSON answer under the key route + user id + role + normalized query,
looked up only after the token was verified. The store is a cachetools TLRU cache (LRU eviction
at CACHE_MAX_ENTRIES, expired entries swept). On a miss, one request per key queries while the
others wait for its answer (single flight); past its TTL an entry is still served, flagged stale,
while one request refreshes it. Only complete 200 answers are stored. An entry is stored only while
this worker's listener (listener.py) receives invalidations, and a notification that arrives while
an answer is being computed keeps that answer out of the store.
"""
import atexit
import hashlib
import os
import threading
import time
from datetime import datetime, timezone
from functools import wraps
from urllib.parse import urlencode

from cachetools import Cache, TLRUCache
from flask import current_app, g, request

from .listener import Listener
from .logs import add_cache_time

# Waiters give up on a flight after this long and compute the answer themselves.
FLIGHT_WAIT_SECONDS = 30.0
# Past its TTL an entry may be served stale, while one request refreshes it, for this many TTLs more.
STALE_TTLS = 1.0
LISTENER_START_WAIT_SECONDS = 2.0
COUNTERS = ("hits", "stale_hits", "coalesced", "misses", "loads")

_open_caches = []  # every cache this process started, for close_all_caches
_caches_lock = threading.Lock()


class Entry:
    """One cached answer: the JSON body, its ETag, and until when it is fresh and servable."""

    __slots__ = ("body", "etag", "built_at", "fresh_until", "stale_until")

    def __init__(self, body, ttl):
        self.body = body
        self.etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        self.built_at = time.monotonic()
        self.fresh_until = self.built_at + ttl
        self.stale_until = self.fresh_until + ttl * STALE_TTLS


class Uncacheable(Exception):
    """The view answered something other than a JSON object or list: pass it through, store nothing."""

    def __init__(self, response):
        super().__init__(response.status)
        self.body, self.status, self.headers = response.get_data(), response.status_code, list(response.headers)


class _Flight:
    def __init__(self):
        self.done = threading.Event()
        self.entry = None
        self.error = None
        self.invalidated = False


class _Store(TLRUCache):
    """A TLRU cache that counts LRU evictions and can list its entries without reordering them."""

    def __init__(self, maxsize):
        super().__init__(maxsize, ttu=lambda key, entry, now: entry.stale_until)
        self.evictions = 0

    def popitem(self):
        item = super().popitem()
        self.evictions += 1
        return item

    def clear(self):
        evictions = self.evictions
        super().clear()
        self.evictions = evictions

    def peek_items(self):
        """Return every held (key, entry), unswept expired ones included, leaving the LRU order alone."""
        return [(key, Cache.__getitem__(self, key)) for key in list(Cache.__iter__(self))]


class ResponseCache:
    """One worker's cache of serialized answers."""

    def __init__(self, max_entries, database_url, single_flight=True):
        self.pid = os.getpid()
        self.single_flight = single_flight
        self.booted_at = datetime.now(timezone.utc)
        self.max_entries = max_entries
        self._store = _Store(max_entries)
        self._lock = threading.Lock()
        self._flights = {}
        self._counts = {}
        self.listener = Listener(database_url, self.invalidate_prefixes, on_idle=self.sweep)

    def start(self):
        """Start listening; wait briefly so the first answers can already be cached."""
        self.listener.start(wait=LISTENER_START_WAIT_SECONDS)
        return self

    def close(self):
        """Stop listening; nothing is cached from now on."""
        self.listener.stop()

    def _count(self, route, counter):
        counts = self._counts.setdefault(route, dict.fromkeys(COUNTERS, 0))
        counts[counter] += 1

    def fetch(self, key, route, ttl, load):
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

    def _lead(self, key, route, ttl, flight, load):
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

    def invalidate(self, prefix=""):
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

    def invalidate_prefixes(self, prefixes):
        """Drop the entries under any of `prefixes`, each covered prefix once."""
        prefixes = sorted(set(prefixes))
        for index, prefix in enumerate(prefixes):
            if not any(prefix.startswith(shorter) for shorter in prefixes[:index]):
                self.invalidate(prefix)

    def sweep(self):
        """Remove expired entries."""
        with self._lock:
            self._store.expire()

    def stats(self, prefix=""):
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


def get_cache(app=None):
    """Return this process's cache for `app`, creating it (and its listener) on first use, after fork."""
    app = app or current_app._get_current_object()
    caches = app.extensions.setdefault("response_cache", {})  # pid -> ResponseCache
    found = caches.get(os.getpid())
    if found is not None:
        return found
    with _caches_lock:
        if os.getpid() not in caches:
            cache = ResponseCache(app.config["CACHE_MAX_ENTRIES"], app.config["DATABASE_URL"],
                                  single_flight=app.config["CACHE_SINGLE_FLIGHT"]).start()
            caches[os.getpid()] = cache
            _open_caches.append(cache)
        return caches[os.getpid()]


def close_all_caches():
    """Stop every cache (and listener) this process opened."""
    with _caches_lock:
        mine = [cache for cache in _open_caches if cache.pid == os.getpid()]
        for cache in mine:
            _open_caches.remove(cache)
    for cache in mine:
        cache.close()


atexit.register(close_all_caches)


def current_cache_stats():
    """Return the statistics of this process's first open cache, or None when none is open."""
    for cache in list(_open_caches):
        if cache.pid == os.getpid():
            return cache.stats()
    return None


def cache_key(route, user_id, role, query_items):
    """Return the key of `route` for this user and role with the query parameters sorted."""
    return f"{route}|user={user_id}|role={role}|{urlencode(sorted(query_items))}"


def _query_items(query):
    """Return the key's query part from the validated query (defaults filled in: ?months=12 and none share a key).

    Never from the raw query string: unknown parameters would each make a new entry, and one client could
    evict everyone's answers. A cached view without a validated query takes no parameters at all.
    """
    if query is not None:
        return [(name, str(value)) for name, value in query.model_dump().items() if value is not None]
    if request.args:
        from .errors import ValidationError
        raise ValidationError([{"field": name, "message": "Extra inputs are not permitted"} for name in request.args],
                              status=400, detail="This route takes no query parameters.")
    return []


def _respond(entry, outcome):
    headers = {"X-Cache": "MISS" if outcome == "MISS" else "HIT", "ETag": f'"{entry.etag}"',
               "Cache-Control": "private, no-cache", "Vary": "Authorization",
               "Age": str(int(time.monotonic() - entry.built_at))}
    if outcome == "STALE":
        headers["X-Cache-Stale"] = "true"
    if request.if_none_match.contains_weak(entry.etag):
        return current_app.response_class(status=304, headers=headers)
    return current_app.response_class(entry.body, status=200, headers=headers, mimetype="application/json")


def cached_per_user(ttl):
    """Cache a view's JSON answer per user for `ttl` seconds (a number, or the name of a config setting).

    Goes below @require_role (the key needs the verified user) and below @accepts (the key uses the
    validated query, and invalid queries never reach the cache).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_app.config["CACHE_ENABLED"]:
                response = current_app.make_response(view(*args, **kwargs))
                response.headers["X-Cache"] = "BYPASS"
                return response
            started, in_view = time.perf_counter(), [0.0]
            seconds = current_app.config[ttl] if isinstance(ttl, str) else ttl
            key = cache_key(request.path, g.user_id, g.role, _query_items(kwargs.get("query")))

            def load():
                view_started = time.perf_counter()
                try:
                    answer = view(*args, **kwargs)
                finally:
                    in_view[0] += time.perf_counter() - view_started
                if isinstance(answer, (dict, list)):
                    return current_app.json.dumps(answer).encode()
                raise Uncacheable(current_app.make_response(answer))

            try:
                entry, outcome = get_cache().fetch(key, request.path, seconds, load)
            except Uncacheable as answer:
                return current_app.response_class(answer.body, status=answer.status, headers=answer.headers)
            finally:
                add_cache_time((time.perf_counter() - started - in_view[0]) * 1000)
            return _respond(entry, outcome)

        wrapper.cache_ttl = ttl
        return wrapper

    return decorator
