"""The health routes' scope parameter and what a caller below admin may see, shared by the health and cache
views (neither imports the other)."""
from typing import Any, Literal

from pydantic import Field

from ..web.auth import has_role
from ..web.validation import Query


class ScopeQuery(Query):
    scope: Literal["worker", "all"] = Field("worker", description="all: every live worker of every instance")


# What names a machine, a process or a place in the code: for admins only (viewers and operators get
# statuses, counts and warnings). "instance" is a host name and master pid by default.
ADMIN_ONLY_KEYS = frozenset({"pid", "backend_pid", "instance", "host", "hostname", "thread", "threads", "where",
                             "borrowed_at", "location"})


def redacted(value: Any) -> Any:
    """Return `value` (dicts and lists, nested) without ADMIN_ONLY_KEYS."""
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items() if key not in ADMIN_ONLY_KEYS}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


def admin_detail(stats: Any) -> Any:
    """Return health statistics as the caller may see them: whole for admins, without ADMIN_ONLY_KEYS for others."""
    return stats if has_role("admin") else redacted(stats)
