"""Liveness and readiness: what a load balancer asks."""
from flask import Blueprint

from ..db import get_pool
from ..errors import problem
from ..lifecycle import draining

bp = Blueprint("health", __name__, url_prefix="/api/health")


@bp.get("")
def get_liveness():
    """Answer while the process serves; touches no database."""
    return {"status": "ok"}


@bp.get("/ready")
def get_readiness():
    """Answer 200 when a pooled connection answers SELECT 1, else 503."""
    if draining():
        return problem(503, "This server is draining before a stop.", headers={"Retry-After": "1"})
    try:
        with get_pool().connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the client
        return problem(503, f"The database is not reachable: {type(exc).__name__}",
                       headers={"Retry-After": "1"})
    return {"status": "ready"}
