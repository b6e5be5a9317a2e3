"""Cheaper password hashes for the tests: still salted scrypt, at N=2^10 instead of production's 2^15.

Production's cost (~0.1 s a hash, on purpose) made logins and user writes a fifth of the fast suite. The
conftest switches before the demo users are seeded, so their hashes are cheap to verify everywhere, gunicorn
workers included (a verify costs what the stored hash says). A test about the cost itself uses production's.
"""
from apps.api.domain import passwords

PRODUCTION_METHOD = passwords.METHOD
TEST_METHOD = "scrypt:1024:8:1"


def use_method(method):
    """Hash new passwords (and the unknown-user dummy) with `method` in this process."""
    passwords.METHOD = method
