"""The cache an app owns: one ResponseCache (and its LISTEN thread) per process, in `app.extensions`."""
from flask import current_app

from ..per_process import PerProcess
from .store import ResponseCache

EXTENSION = "response_cache"


class AppCache:
    """One app's response cache in this process, started on first use (after gunicorn forks)."""

    def __init__(self, config):
        self._cache = PerProcess(lambda: ResponseCache(
            config["CACHE_MAX_ENTRIES"], config["DATABASE_URL"], single_flight=config["CACHE_SINGLE_FLIGHT"]).start())

    def get(self):
        """Return this process's cache, starting it and its listener on first use."""
        return self._cache.get()

    def stats(self):
        """Return this process's cache statistics, or None when it has not started its cache."""
        cache = self._cache.peek()
        return cache.stats() if cache is not None else None

    def close(self):
        """Stop this process's cache and its listener (a later use starts a new one)."""
        self._cache.close()


def init_app(app):
    """Give `app` its response cache (started on first use)."""
    app.extensions[EXTENSION] = AppCache(app.config)


def _owner(app=None):
    return (app or current_app).extensions[EXTENSION]


def get_cache(app=None):
    """Return this process's cache of `app` (default: the current app), starting it on first use."""
    return _owner(app).get()


def cache_stats(app=None):
    """Return the statistics of `app`'s cache in this process, or None when it is not started."""
    return _owner(app).stats()


def close(app):
    """Stop `app`'s cache in this process."""
    _owner(app).close()
