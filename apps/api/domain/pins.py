"""PINs of the shared tablet: 4 to 8 digits, hashed like passwords, five wrong ones in 15 minutes lock them.

The lock is per user, not per device or address: a thief moving between tablets gains nothing, and the right
PIN is refused too while the lock holds (else the lock would only slow a guesser down).
"""
from typing import Annotated

from pydantic import StringConstraints

from .passwords import hash_password, verify_password

PIN_PATTERN = r"^[0-9]{4,8}$"
Pin = Annotated[str, StringConstraints(pattern=PIN_PATTERN)]
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def hash_pin(pin: str) -> str:
    """Return the stored form of `pin`: the same salted scrypt as a password."""
    return hash_password(pin)


def pin_matches(pin_hash: str | None, pin: str) -> bool:
    """Tell whether `pin` matches `pin_hash`; costs one scrypt even without a hash (no user enumeration)."""
    return verify_password(pin_hash, pin)


def lockout_message(seconds_left: int) -> str:
    """Say why a PIN login is refused while its user's lock holds."""
    minutes = max(1, -(-seconds_left // 60))
    return (f"Too many wrong PINs for this user: PIN sign-in is locked for about {minutes} min. "
            "Ask a manager, or use the password on another device.")
