"""The current request's time accounts: database and cache milliseconds, for Server-Timing and the log line.

A context variable, not Flask's `g`: the database and the cache add to it without knowing about requests.
web/context.py opens the accounts when a request starts; web/request_log.py reads them when it ends.
"""
from contextvars import ContextVar


class Accounts:
    """Milliseconds spent in the database and in the cache by one request."""

    __slots__ = ("db_ms", "cache_ms")

    def __init__(self) -> None:
        self.db_ms = self.cache_ms = 0.0


_accounts: ContextVar[Accounts | None] = ContextVar("printshop_timings", default=None)


def open_accounts() -> Accounts:
    """Start counting for the request this thread begins; return its accounts."""
    accounts = Accounts()
    _accounts.set(accounts)
    return accounts


def add_db_time(milliseconds: float) -> None:
    """Count `milliseconds` of database time against the current request, if one is counting."""
    accounts = _accounts.get()
    if accounts is not None:
        accounts.db_ms += milliseconds


def add_cache_time(milliseconds: float) -> None:
    """Count `milliseconds` of cache time against the current request, if one is counting."""
    accounts = _accounts.get()
    if accounts is not None:
        accounts.cache_ms += milliseconds
