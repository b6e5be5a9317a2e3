"""Schema-driven fuzzing: schemathesis generates requests for every operation of GET /api/openapi.json.

Each generated request goes through the Flask app (WSGI, no network) against a database reset per operation:
as a viewer and as an admin where a token is needed (fresh tokens, so a generated logout revokes nothing
later requests need), without one where none is. Every answer must be: no 500, a documented status code,
the documented content type and headers, a body matching the documented schema; and input the document
calls invalid must be refused with a 4xx.
"""
import os

import pytest
from hypothesis import settings

from tests.support.apps import module_app
from tests.support.database import reset_database
from tests.support.fuzz import SCRYPT_OPERATIONS, SETTINGS, call_and_check, schema, scrypt_schema

# Bounded so the run stays near a minute on 2 cores; explore further locally with FUZZ_EXAMPLES=200.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CALLERS = ("viewer", "admin")


@pytest.fixture(scope="module")
def fuzz_app(test_database):
    """One app for the module: building one per operation would add seconds for nothing."""
    with module_app(test_database) as (app, auth, _):
        yield app, auth


@pytest.fixture
def target(fuzz_app, test_database):
    """The module's app and token maker, over a database freshly reset for this operation."""
    reset_database(*test_database)
    return fuzz_app


def _call_and_check(case, app, auth):
    callers = CALLERS if case.operation.definition.raw.get("security") else (None,)
    for username in callers:
        call_and_check(case, app, auth, username)


@schema.exclude(operation_id=SCRYPT_OPERATIONS).parametrize()
@settings(max_examples=MAX_EXAMPLES, **SETTINGS)
def test_every_operation_conforms(case, target):
    _call_and_check(case, *target)


@scrypt_schema.include(operation_id=SCRYPT_OPERATIONS).parametrize()
@settings(max_examples=MAX_EXAMPLES, **SETTINGS)
def test_password_operations_conform(case, target):
    _call_and_check(case, *target)
