"""The HTTP face of the cache: the per-user key, the view decorator, the cached answer's headers."""
import time
from functools import wraps
from urllib.parse import urlencode

from flask import current_app, g, request

from .. import db
from ..cache.app import get_cache
from ..runtime.timings import add_cache_time
from .etags import GZIP_SUFFIX


class Uncacheable(Exception):
    """The view answered something other than a JSON object or list: pass it through, store nothing."""

    def __init__(self, response):
        super().__init__(response.status)
        self.body, self.status, self.headers = response.get_data(), response.status_code, list(response.headers)


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
    if request.query_string and request.args:  # the bytes first: no parsing on the hot path
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
    # The gzip-coded answer's tag (etags.gzip_etag) names the same entry.
    if "If-None-Match" in request.headers and any(
            request.if_none_match.contains_weak(tag) for tag in (entry.etag, entry.etag + GZIP_SUFFIX)):
        return current_app.response_class(status=304, headers=headers)
    return current_app.response_class(entry.body, status=200, headers=headers, content_type="application/json")


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

            cache = get_cache()

            def load():
                db.fresh_after(cache.invalidated_at)  # replicas serve this only once they replayed past it
                view_started = time.perf_counter()
                try:
                    answer = view(*args, **kwargs)
                finally:
                    in_view[0] += time.perf_counter() - view_started
                if isinstance(answer, (dict, list)):
                    return current_app.json.dumps(answer).encode()
                raise Uncacheable(current_app.make_response(answer))

            try:
                entry, outcome = cache.fetch(key, request.path, seconds, load)
            except Uncacheable as answer:
                return current_app.response_class(answer.body, status=answer.status, headers=answer.headers)
            finally:
                add_cache_time((time.perf_counter() - started - in_view[0]) * 1000)
            return _respond(entry, outcome)

        vars(wrapper).update(cache_ttl=ttl)
        return wrapper

    return decorator
