"""The pool's named errors (psycopg_pool's names): what a caller may catch."""
import psycopg2
import psycopg2.errors


class PoolError(Exception):
    """The pool cannot hand out a connection."""


class PoolTimeout(PoolError):
    """No connection became available within the timeout."""


class TooManyRequests(PoolError):
    """Too many requests already wait for a connection."""


class PoolClosed(PoolError):
    """The pool is closed."""


class PoolForkError(PoolError):
    """The pool was used in a process other than the one that created it."""


class PrimaryUnavailable(PoolError):
    """The primary is known to be down (the circuit breaker is open): refused at once, without trying."""


# What a call on the primary raises when it could not be served: the pool's refusals and psycopg2's.
CONNECTION_ERRORS = (PoolError, psycopg2.OperationalError, psycopg2.InterfaceError)


def unreachable(exc: BaseException) -> bool:
    """Tell whether `exc` (one of CONNECTION_ERRORS) means the primary is out of reach (down, or only just
    gone while the breaker still probes) rather than busy (a pool timeout, a statement timeout)."""
    if isinstance(exc, PoolError):
        return isinstance(exc, PrimaryUnavailable)
    return not isinstance(exc, psycopg2.errors.QueryCanceled)
