"""The cache an app owns: one ResponseCache (and its LISTEN thread) per process, in `app.extensions`."""
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app

from .. import db
from ..runtime.per_process import PerProcess
from .store import ResponseCache

EXTENSION = "response_cache"
WRITES_CHANNEL = "printshop_writes"  # see notify-write in sql/db.sql


class AppCache:
    """One app's response cache in this process, started on first use (after gunicorn forks)."""

    def __init__(self, config: Mapping[str, Any], database: db.Database) -> None:
        # LISTEN needs a session: the direct URL. With replicas the same connection also hears every
        # instance's write notices, which keep a user's reads on the primary until a replica has them:
        # the database learns them through its documented interface (listen_for_writes, heard_write).
        self.notices: dict[str, Callable[[str], object]] = (
            {WRITES_CHANNEL: database.heard_write} if db.replica_urls(config) else {})
        self._cache: PerProcess[ResponseCache] = PerProcess(lambda: ResponseCache(
            config["CACHE_MAX_ENTRIES"], db.direct_url(config), single_flight=config["CACHE_SINGLE_FLIGHT"],
            notices=self.notices, config=config).start())
        database.listen_for_writes(self.listening)

    def hear(self, channel: str, callback: Callable[[str], None]) -> None:
        """Hand every notice on `channel` to `callback` from this process's listener (register before first use)."""
        self.notices[channel] = callback

    def listening(self) -> bool:
        """Tell whether this process's listener receives notifications right now."""
        cache = self._cache.peek()
        return cache is not None and cache.listener.listening

    def get(self) -> ResponseCache:
        """Return this process's cache, starting it and its listener on first use."""
        return self._cache.get()

    def stats(self) -> dict[str, Any] | None:
        """Return this process's cache statistics, or None when it has not started its cache."""
        cache = self._cache.peek()
        return cache.stats() if cache is not None else None

    def close(self) -> None:
        """Stop this process's cache and its listener (a later use starts a new one)."""
        self._cache.close()


def init_app(app: Flask) -> None:
    """Give `app` its response cache (started on first use)."""
    app.extensions[EXTENSION] = AppCache(app.config, db.database(app))


def hear(app: Flask, channel: str, callback: Callable[[str], None]) -> None:
    """Have `app`'s listener hand every notice on `channel` to `callback` (in each process, on its own thread)."""
    app.extensions[EXTENSION].hear(channel, callback)


def _owner(app: Flask | None = None) -> AppCache:
    owner: AppCache = (app or current_app).extensions[EXTENSION]
    return owner


def get_cache(app: Flask | None = None) -> ResponseCache:
    """Return this process's cache of `app` (default: the current app), starting it on first use."""
    return _owner(app).get()


def cache_stats(app: Flask | None = None) -> dict[str, Any] | None:
    """Return the statistics of `app`'s cache in this process, or None when it is not started."""
    return _owner(app).stats()


def close(app: Flask) -> None:
    """Stop `app`'s cache in this process."""
    _owner(app).close()
