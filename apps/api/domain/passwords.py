"""Password hashing: scrypt (memory-hard, salted) through Werkzeug."""
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

# scrypt with N=2^15, r=8, p=1: 32 MiB and tens of milliseconds per hash.
METHOD = "scrypt:32768:8:1"


@cache
def _dummy_hash(method: str) -> str:
    """A hash to compare against when the username is unknown, so both paths cost one scrypt (no user
    enumeration); one per method, made once."""
    return generate_password_hash("not-a-real-password", method=method)


_dummy_hash(METHOD)  # made now, so that the first unknown username costs no more than any other


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of `password`."""
    return generate_password_hash(password, method=METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Tell whether `password` matches `password_hash`; costs the same when the hash is None."""
    if password_hash is None:
        check_password_hash(_dummy_hash(METHOD), password)
        return False
    return check_password_hash(password_hash, password)
