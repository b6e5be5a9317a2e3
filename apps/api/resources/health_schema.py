"""The health routes' scope parameter, shared by the health and cache views (neither imports the other)."""
from typing import Literal

from pydantic import Field

from ..web.validation import Query


class ScopeQuery(Query):
    scope: Literal["worker", "all"] = Field("worker", description="all: every live worker of every instance")
