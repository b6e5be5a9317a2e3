"""Liveness, readiness and the database pool's health: what load balancers and operators ask."""
import time
from typing import Literal

import psycopg2
from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict

from ..config import default_workers
from ..db import PoolError, PrimaryUnavailable, Queries, connection, database, get_pool, one_row
from ..ops import heartbeat
from ..ops.draining import draining
from ..web.auth import has_role, require_role
from ..web.errors import RETRY_AFTER_SECONDS, problem
from ..web.openapi import documented
from ..web.validation import accepts
from .health_schema import ScopeQuery, admin_detail

bp = Blueprint("health", __name__, url_prefix="/api/health")
queries = Queries("health.sql")

BUSY_SHARE = 0.8     # more of the pool in use than this: degraded
QUEUED_SHARE = 0.1   # more requests than this waited for a connection: the pool is too small
SERVER_KEYS = ("server_version", "max_connections", "reserved_connections", "connections")
_RETRY = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class PoolStats(BaseModel):
    """The contract's pool keys; every statistic of the pool (psycopg_pool's names and more) besides."""

    model_config = ConfigDict(extra="allow")
    min_connections: int
    max_connections: int
    available: int
    in_use: int
    total: int


class Status(BaseModel):
    """The process serves (`ok`), its database answers (`ready`), or only a standby does (`read_only`:
    reads are served, writes answer 503)."""

    status: Literal["ok", "ready", "read_only"]


class DbHealth(BaseModel):
    """The answering worker's pool; `databases`: the primary and each replica (role, state, lag, pool);
    `workers` (scope=all): every live worker of every instance, from their heartbeats."""

    model_config = ConfigDict(extra="allow")
    status: str
    pool_stats: PoolStats
    server: dict
    databases: list[dict]
    warnings: list[str]
    recommendations: list[str]


class DbTest(BaseModel):
    status: str
    query_ms: float
    acquire_ms: float
    server_version: str


@bp.get("")
@documented(schema=Status)
def get_liveness():
    """Answer while the process serves; touches no database."""
    return {"status": "ok"}


@bp.get("/ready")
@documented(schema=Status, responses={503: "Draining, or the database is not reachable"})
def get_readiness():
    """Answer 200 when PostgreSQL answers on the pool's probe connection (never a request's), `read_only`
    while the primary is down and a standby serves the reads, else 503."""
    if draining(current_app.config):
        return problem(503, "This server is draining before a stop.", headers={"Retry-After": "1"})
    pool = get_pool()
    if pool.breaker is not None and pool.breaker.state != "closed":  # failing: never wait on a probe
        if database().read_only():
            return {"status": "read_only"}
        return problem(503, "The database is not reachable: the primary is down.", headers=_RETRY)
    try:
        pool.probe(queries.check_ready)
    except (PoolError, psycopg2.Error) as exc:
        if isinstance(exc, psycopg2.Error) and pool.breaker is not None:
            pool.breaker.trip(exc)  # the probe reconnected and still failed: the primary is unreachable
        if database().read_only():
            return {"status": "read_only"}
        return problem(503, f"The database is not reachable: {type(exc).__name__}", headers=_RETRY)
    return {"status": "ready"}


@bp.get("/db")
@documented(schema=DbHealth)
@require_role("viewer")
@accepts(query=ScopeQuery)
def get_db_health(query):
    """Report the pool's health (healthy, degraded, unhealthy), statistics, warnings and recommendations.

    `server` (PostgreSQL's version and connection limits) is filled in for admins only.
    """
    pool = get_pool()
    try:
        if database().primary_down():
            raise PrimaryUnavailable("the primary is down")
        server = dict(zip(SERVER_KEYS, pool.probe(queries.get_server_limits) or ()))
    except (PoolError, psycopg2.Error) as exc:
        server = {"error": type(exc).__name__}
    stats = pool.stats()
    databases = database().databases()
    status, warnings = _judge(stats, server, pool.leaks(), detail=has_role("admin"))
    if database().read_only():
        status = "read_only"
        warnings.insert(0, "the primary is down: reads are served by a standby, writes answer 503")
    for replica in databases[1:]:
        if replica["state"] != "in_rotation":
            warnings.append(f"{replica['name']} is out of rotation ({replica['state']}): its reads go to the primary")
            status = "degraded" if status == "healthy" else status
    pool_stats = dict(min_connections=stats["pool_min"], max_connections=stats["pool_max"],
                      available=stats["pool_available"], in_use=stats["pool_in_use"],
                      total=stats["pool_size"], **stats)
    # The server's version and connection limits are for admins: to others they tell what to attack and
    # how many connections it takes to fill the server.
    shown = server if has_role("admin") else {}
    answer = {"status": status, "pool_stats": pool_stats, "server": shown, "databases": databases,
              "warnings": warnings, "recommendations": _recommend(stats, shown, current_app.config)}
    if query.scope == "all":
        answer["workers"] = heartbeat.fleet(lambda row: row["db_stats"])
    # Host names, pids, code locations and thread names: admins only.
    return admin_detail(answer)


@bp.get("/db/test")
@documented(schema=DbTest, responses={503: "The round trip failed"})
@require_role("viewer")
def get_db_test():
    """Run a real round trip on a pooled connection; report how long getting it and the query took."""
    started = time.perf_counter()
    try:
        with connection() as conn, conn.cursor() as cur:
            acquired = time.perf_counter()
            cur.execute(queries.get_server_version)
            (server_version,) = one_row(cur)
            answered = time.perf_counter()
    except (PoolError, psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        return problem(503, f"The database round trip failed: {type(exc).__name__}.", headers=_RETRY)
    return {"status": "ok", "query_ms": round((answered - acquired) * 1000, 3),
            "acquire_ms": round((acquired - started) * 1000, 3), "server_version": server_version}


def _judge(stats: dict, server: dict, leaks: list[dict], detail: bool = True) -> tuple[str, list[str]]:
    """Return (status, warnings): unhealthy when no connection can be had, degraded when strained."""
    unhealthy, warnings = [], []
    if "error" in server:
        unhealthy.append(f"PostgreSQL does not answer ({server['error']}): requests get 503 until it is back")
    if stats["pool_in_use"] >= stats["pool_max"] and stats["requests_waiting"] and stats["errors_recent"]:
        unhealthy.append(f"all {stats['pool_max']} connections are lent out and requests time out waiting")
    if stats["requests_waiting"]:
        warnings.append(f"{stats['requests_waiting']} requests wait for a connection")
    if stats["errors_recent"]:
        warnings.append(f"{stats['errors_recent']} pool errors in the last minute "
                        "(requests without a connection, failed connects, lost connections)")
    if stats["pool_in_use"] > BUSY_SHARE * stats["pool_max"]:
        warnings.append(f"{stats['pool_in_use']} of {stats['pool_max']} connections in use")
    for leak in leaks:
        if detail:
            warnings.append(f"possible leak: connection borrowed at {leak['where']} by thread {leak['thread']} "
                            f"held {leak['held_s']} s")
        else:  # where in the code and which thread: for admins
            warnings.append(f"possible leak: a connection held {leak['held_s']} s")
    status = "unhealthy" if unhealthy else "degraded" if warnings else "healthy"
    return status, unhealthy + warnings


def _recommend(stats, server, config):
    """Return concrete configuration changes that the statistics call for."""
    advice = []
    pool_max = stats["pool_max"]
    threads = config["GUNICORN_THREADS"]
    if pool_max < threads:
        advice.append(f"pool max {pool_max} < {threads} threads per worker: raise DB_POOL_MAX_CONNECTIONS "
                      f"to {threads} (or lower GUNICORN_THREADS)")
    workers = config["WEB_CONCURRENCY"] or default_workers()  # unset: gunicorn.conf.py's 2 x CPUs + 1
    if "max_connections" in server:
        room = server["max_connections"] - server["reserved_connections"]
        need = workers * (pool_max + 2)
        if need > room:
            advice.append(f"{workers} workers x (pool max {pool_max} + 1 probe + 1 listener) = {need} "
                          f"connections > {room} the server allows (max_connections - "
                          "superuser_reserved_connections): lower DB_POOL_MAX_CONNECTIONS or WEB_CONCURRENCY, "
                          "or put PgBouncer in front")
    if stats["requests_num"] >= 20 and stats["requests_queued"] > QUEUED_SHARE * stats["requests_num"]:
        share = round(100 * stats["requests_queued"] / stats["requests_num"])
        advice.append(f"{share} % of requests waited for a connection (longest {stats['requests_wait_max_ms']:.0f}"
                      " ms): raise DB_POOL_MAX_CONNECTIONS if the server has room, or shorten transactions")
    if stats["requests_errors"]:
        advice.append(f"{stats['requests_errors']} requests got no connection within DB_POOL_TIMEOUT="
                      f"{config['DB_POOL_TIMEOUT']:g} s: see the warnings above for why")
    if stats["leaks_detected"]:
        advice.append(f"{stats['leaks_detected']} connections were held longer than DB_POOL_LEAK_THRESHOLD="
                      f"{config['DB_POOL_LEAK_THRESHOLD']:g} s (the log names where each was borrowed): "
                      "keep transactions short and never hold a connection across slow work")
    if stats["connections_lost"]:
        advice.append(f"{stats['connections_lost']} idle connections were found dead: if PostgreSQL did not "
                      "restart, a firewall or proxy drops idle connections; set DB_POOL_MAX_IDLE below its timeout")
    if config["DB_STATEMENT_TIMEOUT_MS"] >= config["GUNICORN_TIMEOUT"] * 1000:
        advice.append("DB_STATEMENT_TIMEOUT_MS is not below GUNICORN_TIMEOUT: lower it, so a slow query is "
                      "cancelled before gunicorn kills the worker")
    return advice
