"""What both schema-driven fuzz runs share: the OpenAPI document as schemathesis sees it, and the checks.

The document is read when a fuzz module asks for it (document_schemas(), once per run), from an app that needs
no database to serve it; schemathesis parametrizes while collecting (its fixture-based lazy loading does not work
with pytest 9), so conftest.py does not even collect the fuzz modules when -m leaves fuzz tests out.
The requests go to a test's app.
"""
from functools import cache

import schemathesis
from hypothesis import HealthCheck
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from apps.api import create_app
from tests.support.apps import NO_DATABASE, app_config

# Operations that hash or verify a password (scrypt, ~0.1 s each by design).
SCRYPT_OPERATIONS = ["login", "createUser", "updateUser"]
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance,
          checks.negative_data_rejection]
# Operations that still accept some input the document calls invalid, and why (other checks still apply).
# Add one only with the reason; the full check guards every other operation.
ACCEPTS_UNDOCUMENTED_INPUT = {}
SETTINGS = dict(deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
# Identity encoding: the WSGI transport would not decompress a gzip answer before checking it.
PLAIN = {"Accept-Encoding": "identity"}



@cache
def document_schemas():
    """Return (schema, scrypt_schema): the document as schemathesis sees it, the second without the coverage phase.

    Explicit configuration (no schemathesis.toml discovery): every phase on, except that the password operations
    skip the coverage phase (its dozens of boundary cases each would cost a scrypt hash).
    """
    document_app = create_app(app_config(NO_DATABASE))
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", document_app, config=SchemathesisConfig())
    scrypt_schema = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", document_app,
        config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}}))
    return schema, scrypt_schema


def call_and_check(case, app, auth, username):
    """Send `case` to `app` as `username` (None: no token), validate the answer against the document; return it."""
    headers = {**PLAIN, **auth.headers(username)} if username else PLAIN
    response = case.call(app=app, headers=headers)
    excluded = [checks.negative_data_rejection] if case.operation.label in ACCEPTS_UNDOCUMENTED_INPUT else []
    case.validate_response(response, checks=CHECKS, excluded_checks=excluded, headers=headers)
    return response
