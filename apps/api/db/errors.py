"""The pool's named errors (psycopg_pool's names): what a caller may catch."""


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
