"""The per-user response cache of each worker process, kept coherent across workers by LISTEN/NOTIFY.

store.py holds the answers (TTL + LRU, single flight), listener.py receives every writer's
invalidations on a dedicated connection, http.py is the view decorator, and app.py ties one cache
per process to the app that owns it (`init_app`, `get_cache`, `close`).
"""
from .app import cache_stats, close, get_cache, init_app
from .http import cache_key, cached_per_user
from .store import ResponseCache

__all__ = ["init_app", "get_cache", "cache_stats", "close", "cache_key", "cached_per_user", "ResponseCache"]
