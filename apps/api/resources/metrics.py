"""GET /metrics: Prometheus text format for every worker, protected by a token or loopback."""
import hmac

from flask import Blueprint, Response, current_app, request

from ..ops.metrics import exposition
from ..web.errors import ApiError
from ..web.proxies import PEER_ADDR

bp = Blueprint("metrics", __name__)
LOOPBACK = ("127.0.0.1", "::1")


def _authorized():
    token = current_app.config["METRICS_TOKEN"]
    if token:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(presented.encode(), token.encode())
    # Loopback means the socket's peer, and no proxy speaking for someone else: a forwarded header never counts.
    peer = request.environ.get(PEER_ADDR, request.remote_addr)
    return peer in LOOPBACK and request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


@bp.get("/metrics")
def get_metrics():
    """Return the Prometheus metrics (Bearer METRICS_TOKEN, or from loopback when no token is set)."""
    if not _authorized():
        raise ApiError(403, "Metrics need 'Authorization: Bearer <METRICS_TOKEN>' (or a loopback client "
                            "when METRICS_TOKEN is unset).")
    body, content_type = exposition(current_app.config["PROMETHEUS_MULTIPROC_DIR"])
    return Response(body, content_type=content_type)
