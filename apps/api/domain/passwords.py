"""Password hashing: scrypt (memory-hard, salted) through Werkzeug."""
from werkzeug.security import check_password_hash, generate_password_hash

# scrypt with N=2^15, r=8, p=1: 32 MiB and tens of milliseconds per hash.
METHOD = "scrypt:32768:8:1"

# Compared against when the username is unknown, so both paths cost one scrypt (no user enumeration).
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=METHOD)


def hash_password(password):
    """Return a salted scrypt hash of `password`."""
    return generate_password_hash(password, method=METHOD)


def verify_password(password_hash, password):
    """Tell whether `password` matches `password_hash`; costs the same when the hash is None."""
    if password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)
