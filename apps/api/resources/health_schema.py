"""The health routes' scope parameter and what a caller below admin may see, shared by the health and cache
views (neither imports the other)."""
from typing import Literal

from pydantic import Field

from ..web.auth import has_role
from ..web.validation import Query


class ScopeQuery(Query):
    scope: Literal["worker", "all"] = Field("worker", description="all: every live worker of every instance")


def admin_detail(stats):
    """Return cache statistics as a caller below admin may see them: no database backend pid."""
    if has_role("admin") or not isinstance(stats, dict) or not isinstance(stats.get("listener"), dict):
        return stats
    listener = {key: value for key, value in stats["listener"].items() if key != "backend_pid"}
    return dict(stats, listener=listener)
