"""The per-user response cache of each worker process, kept coherent across workers by LISTEN/NOTIFY.

store.py holds the answers (TTL + LRU, single flight), listener.py receives every writer's
invalidations on a dedicated connection, and app.py ties one cache
per process to the app that owns it (`init_app`, `get_cache`, `close`). The view decorator that
answers from it is web/cached.py.
"""
from .app import cache_stats, close, get_cache, hear, init_app
from .store import ResponseCache

__all__ = ["init_app", "get_cache", "hear", "cache_stats", "close", "ResponseCache"]
