"""Conditional requests (RFC 9110): strong ETags from row versions, and If-Match on changes.

A row's version is PostgreSQL's xmin (the transaction that wrote the row's current version), selected as
`row_version`: every write changes it, whoever writes (the API, a script, psql), at no cost and with no
column to keep up to date. A job's version also covers its steps and its customer (job_version(),
migration 0042), since its representation shows them. The tag is a keyed hash of the version: a raw
transaction id would show readers how much is written, and when.
"""
import hashlib
import hmac

from flask import current_app, request

from .errors import ApiError

VERSION_KEY = "row_version"
# A gzip-coded answer is another representation, so it gets its own strong tag (the version plus this
# suffix); If-Match takes either (the change is to the resource, whatever coding it was read in).
GZIP_SUFFIX = "-gzip"
_PURPOSE = b"printshop etag v1"
_TAG_BYTES = 12


def _key():
    # A key of its own, derived from the app secret (as list cursors do), computed once per app.
    key = current_app.extensions.get("etag_key")
    if key is None:
        key = hmac.new(current_app.config["JWT_SECRET_KEY"].encode(), _PURPOSE, hashlib.sha256).digest()
        current_app.extensions["etag_key"] = key
    return key


def pop_etag(row, variant=""):
    """Remove the row's version from it and return its strong entity tag (opaque), quoted."""
    version = f"{row.pop(VERSION_KEY)}{variant}".encode()
    return f'"{hashlib.blake2b(version, key=_key(), digest_size=_TAG_BYTES).hexdigest()}"'


def check_if_match(etag):
    """Answer 412 unless If-Match is absent, `*`, or names `etag` (strong comparison: W/ never matches)."""
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return
    version = etag.strip('"')
    if not (if_match.contains(version) or if_match.contains(version + GZIP_SUFFIX)):
        raise ApiError(412, "The resource has changed since you read it (If-Match does not match its ETag); "
                            "read it again and retry.", headers={"ETag": etag})


def gzip_etag(etag):
    """Return the strong tag of the gzip-coded representation tagged `etag` (a weak tag stays as it is)."""
    return etag if etag.startswith("W/") else f'"{etag.strip(chr(34))}{GZIP_SUFFIX}"'


def precondition(row, variant=""):
    """Check If-Match against a locked row; drop its version from it and return its ETag."""
    etag = pop_etag(row, variant)
    check_if_match(etag)
    return etag


def with_etag(row, status=200, headers=None, variant=""):
    """Return a view answer of `row` with its ETag header (the version leaves the body)."""
    etag = pop_etag(row, variant)
    return row, status, dict(headers or {}, ETag=etag)
