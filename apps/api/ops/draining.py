"""Draining before a graceful stop: readiness turns 503 so the load balancer stops sending.

On SIGTERM, gunicorn.conf.py creates the drain file, keeps serving for GRACEFUL_DRAIN_SECONDS,
then stops gracefully (in-flight requests finish). Connections still queued in the kernel when the
listening socket closes are reset by the OS, whatever the server does, so the balancer must have
stopped sending by then: set the drain time above its health-check interval x failure threshold.
"""
import os


def draining(config):
    """Tell whether this server is draining before a stop (PRINTSHOP_DRAIN_FILE: set by gunicorn.conf.py)."""
    path = config["PRINTSHOP_DRAIN_FILE"]
    return bool(path) and os.path.exists(path)
