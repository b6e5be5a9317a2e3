"""Each worker's memory of the access tokens it has verified, so the same bytes skip a second signature check.

Verifying a token (base64, JSON and HMAC in pure Python) was the largest cost of a cached read. A token
is remembered by its exact text, only after flask-jwt-extended accepted it, and only until its own `exp`:
a changed byte is another key and is verified in full. The session check still runs on every request,
so an ended session or a changed role is refused as before (within the 1 s view of sessions.py).
"""
import time

from flask import current_app, g, request
from flask_jwt_extended import get_jwt, get_jwt_header, verify_jwt_in_request

from . import sessions

EXTENSION = "verified_tokens"
MAX_TOKENS = 10_000
BEARER = "Bearer "


class VerifiedTokens:
    """One app's verified access tokens: token text -> (claims, header), each until its expiry."""

    def __init__(self):
        self.tokens = {}  # read without a lock: one get is atomic, entries are replaced whole

    def known(self, token):
        """Return (claims, header) of a verified, unexpired token, or None."""
        found = self.tokens.get(token)
        if found is None or found[0].get("exp", 0) <= time.time():
            return None
        return found

    def remember(self, token, claims, header):
        """Keep a verified access token (the whole memory is dropped when full: tokens are cheap to verify again)."""
        if len(self.tokens) >= MAX_TOKENS:
            self.tokens = {}
        self.tokens[token] = (claims, header)


def init_app(app):
    """Give `app` its memory of verified tokens (one per process, like everything in app.extensions)."""
    app.extensions[EXTENSION] = VerifiedTokens()


def _bearer_token():
    header = request.headers.get("Authorization", "")
    token = header[len(BEARER):] if header.startswith(BEARER) else ""
    return token if token and " " not in token else None


def verify_access_token():
    """Verify the request's access token as verify_jwt_in_request() does; return its claims."""
    memory = current_app.extensions[EXTENSION]
    token = _bearer_token()
    known = memory.known(token) if token and request.method != "OPTIONS" else None
    if known is not None and not sessions.is_refused(known[0]):
        claims, header = known
        # What verify_jwt_in_request() leaves for get_jwt() and friends (no user_lookup_loader is set).
        g._jwt_extended_jwt_user = None
        g._jwt_extended_jwt_header = header
        g._jwt_extended_jwt = claims
        g._jwt_extended_jwt_location = "headers"
        return claims
    verify_jwt_in_request()  # every check, and the right 401 when one fails
    claims = get_jwt()
    if token and claims.get("type") == "access":
        memory.remember(token, claims, get_jwt_header())
    return claims
