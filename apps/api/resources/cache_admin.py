"""The response cache seen from outside: this worker's statistics, and a clear that reaches every worker."""
import logging
from typing import Any

from flask import Blueprint, g, request
from pydantic import BaseModel, Field

from ..cache import get_cache
from ..db import Queries, cursor
from ..ops import heartbeat
from ..web.auth import has_role, require_role
from ..web.errors import ApiError
from ..web.openapi import documented
from ..web.validation import OMITTED, Body, Text200, accepts, parse_body
from .health_schema import ScopeQuery, admin_detail

bp = Blueprint("cache_admin", __name__, url_prefix="/api/health/cache")
queries = Queries("cache.sql")
log = logging.getLogger(__name__)


class CacheQuery(ScopeQuery):
    # A route path such as /api/dashboard/stats; admins may also give a key prefix (with |user=...|role=...).
    prefix: Text200 = ""


class ClearBody(Body):
    prefix: Text200 = ""


class CacheStats(BaseModel):
    """The answering worker's cache statistics (and, with scope=all, every live worker's)."""

    status: str = OMITTED
    cache_stats: dict[str, Any] = Field(OMITTED, description=(
        "Entries (total, active, expired) under `prefix`, hits, misses, evictions, hit rate, per-route counts, "
        "and the answering worker's pid, boot time and listener state."))


class CacheCleared(BaseModel):
    """How many entries this worker dropped under `prefix`."""

    status: str = OMITTED
    cleared: int = OMITTED
    prefix: str = OMITTED


@bp.get("")
@documented(schema=CacheStats)
@require_role("viewer")
@accepts(query=CacheQuery)
def get_cache_stats(query):
    """Return the answering worker's cache statistics for the routes under `prefix` (a route path); with
    scope=all also every live worker's (their whole caches, as their last heartbeat published them).

    Key-level detail (a prefix reaching into the key: `|user=...|role=...`) is for admins only, since it
    would tell who has which role; so are pids and host names (the listener's backend, each worker's).
    """
    if "|" in query.prefix and not has_role("admin"):
        raise ApiError(403, "Only admins may ask about single cache keys; give a route path as prefix.")
    answer = {"status": "ok", "cache_stats": get_cache().stats(query.prefix)}
    if query.scope == "all":
        answer["workers"] = heartbeat.fleet(lambda row: {"cache_stats": row["cache_stats"]})
    return admin_detail(answer)


@bp.post("/clear")
@documented(status=200, schema=CacheCleared)
@require_role("admin")
def clear_cache():
    """Drop cached answers under `prefix` (all when absent) in every worker of every instance, within 1 s.

    The body is optional. `cleared` counts the entries this worker dropped; the others drop theirs when
    the notification reaches their listener.
    """
    body = parse_body(ClearBody) if request.get_data() else ClearBody()
    with cursor() as cur:
        cur.execute(queries.notify_invalidate, {"prefix": body.prefix})
    cleared = get_cache().invalidate(body.prefix)
    log.info("cache cleared by user %s: prefix %r, %d entries here", g.user_id, body.prefix, cleared)
    return {"status": "ok", "cleared": cleared, "prefix": body.prefix}


clear_cache.body_model = ClearBody  # documented in OpenAPI as an optional body
clear_cache.body_required = False
