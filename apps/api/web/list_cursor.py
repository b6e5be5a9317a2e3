"""List cursors: a page number and the last row's sort key, signed so that a client cannot forge one."""
import base64
import hashlib
import hmac
import json

from flask import current_app

from .errors import ApiError

_PURPOSE = b"printshop list cursor v1"
_SIGNATURE_BYTES = 16


def _signature(payload, scope):
    # A key of its own, derived from the app secret: a cursor signature is never a valid token signature.
    key = hmac.new(current_app.config["JWT_SECRET_KEY"].encode(), _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, scope.encode() + b"\n" + payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make(page, key, scope):
    """Return an opaque cursor for page `page` continuing after sort key `key`, valid only in `scope`."""
    payload = json.dumps([page, key], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_signature(payload, scope))}"


def read(cursor, scope, key_length):
    """Return (page, key) of a cursor made for `scope`; answer 400 for a forged, corrupted or foreign one."""
    try:
        encoded, signature = cursor.split(".")
        payload = _unb64(encoded)
        valid = hmac.compare_digest(_unb64(signature), _signature(payload, scope))
    except (ValueError, UnicodeError):
        valid = False
    if not valid:
        raise ApiError(400, "The cursor is not one this list gave out (with this sort order): "
                            "pass pagination.next_cursor unchanged.")
    page, key = json.loads(payload)
    if not isinstance(page, int) or not isinstance(key, list) or len(key) != key_length:
        raise ApiError(400, "The cursor does not fit this list.")
    return page, key
