"""Devices on the floor: what a device is, its token, and what each kind may read.

A device token is 256 random bits: not a password, so it is kept as its SHA-256 (a slow hash adds nothing to
a secret nobody can guess) and compared by that hash's index. It never names a user and writes nothing by
itself: a board reads the board feed, a tablet reads its operators and opens PIN sessions for them.
"""
import hashlib
import secrets
from typing import Literal, NamedTuple, get_args

DeviceKind = Literal["board", "tablet"]
DEVICE_KINDS: tuple[DeviceKind, ...] = get_args(DeviceKind)
TOKEN_PREFIX = "dev_"  # tells a device token from a JWT at a glance (a JWT has dots, this never does)
DEFAULT_IDLE_SECONDS = 120


class Device(NamedTuple):
    """A live (not revoked) device as a request sees it."""

    id: int
    name: str
    kind: str
    machine_id: int | None
    idle_seconds: int


def new_token() -> str:
    """Return a new device token: the prefix and 256 random bits, URL-safe (it travels in a URL fragment)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def looks_like_token(text: str) -> bool:
    """Tell whether `text` has a device token's shape (so a JWT is never looked up as one)."""
    return text.startswith(TOKEN_PREFIX) and 20 <= len(text) <= 100 and "." not in text


def token_hash(token: str) -> bytes:
    """Return the stored form of `token`: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()
