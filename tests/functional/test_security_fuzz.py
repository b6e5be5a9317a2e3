"""Schema-driven fuzzing as the role each operation requires, and what tests/functional/test_fuzz_openapi.py does not
check: a refused request changes no row.

That run sends every operation as a viewer and as an admin. This one sends each as the weakest role that
may perform it, so its input reaches validation and SQL (operator on PATCH /api/steps, manager on the
manager's writes, admin on the admin's), and as a manager for the viewer's reads: together every role
meets every operation it can reach, with the same checks (no 500, documented statuses, content types,
headers and schemas, invalid input refused). Here every answer >= 400 is also checked against a fingerprint
of every table taken just before the request (only the login rate-limit counters may move).
Bounded: FUZZ_ROLE_EXAMPLES (default 5) examples per operation; explore further locally with more.
"""
import os

import pytest
from hypothesis import settings

from tests.support.apps import module_app
from tests.support.checks import changed_tables, fingerprint
from tests.support.database import reset_database
from tests.support.fuzz import SCRYPT_OPERATIONS, SETTINGS, call_and_check, document_schemas

MAX_EXAMPLES = int(os.environ.get("FUZZ_ROLE_EXAMPLES", "5"))

pytestmark = pytest.mark.fuzz
schema, scrypt_schema = document_schemas()
# Who sends an operation, by the role it requires (the document's x-required-role).
CALLERS = {None: (None,), "viewer": ("manager",), "operator": ("operator1", "manager"), "manager": ("manager",),
           "admin": ("admin",)}


@pytest.fixture(scope="module")
def role_fuzz_app(test_database):
    with module_app(test_database) as world:
        yield world


@pytest.fixture
def role_target(role_fuzz_app, test_database):
    reset_database(*test_database)
    return role_fuzz_app


def _call_check_and_compare(case, app, auth, conn):
    callers = CALLERS[case.operation.definition.raw.get("x-required-role")]
    before = fingerprint(conn)
    for username in callers:
        response = call_and_check(case, app, auth, username)
        after = fingerprint(conn)  # nothing else writes meanwhile: the next request's `before`
        if response.status_code >= 400:
            changed = changed_tables(before, after)
            assert changed == [], f"{case.operation.label} as {username}: {response.status_code} but changed {changed}"
        before = after


def _writes_first_reached_here(ctx):
    """The operations whose required role the other run never sends: their boundary cases matter here."""
    return ctx.operation.definition.raw.get("x-required-role") in ("operator", "manager")


# The coverage phase (dozens of boundary cases per operation, whatever max_examples says) runs here only
# where the other run could not reach the validation: reads and admin operations already had it there.
@schema.exclude(operation_id=SCRYPT_OPERATIONS).include(_writes_first_reached_here).parametrize()
@settings(max_examples=MAX_EXAMPLES, **SETTINGS)
def test_every_manager_and_operator_operation_as_its_role(case, role_target):
    _call_check_and_compare(case, *role_target)


@scrypt_schema.exclude(operation_id=SCRYPT_OPERATIONS).exclude(_writes_first_reached_here).parametrize()
@settings(max_examples=MAX_EXAMPLES, **SETTINGS)
def test_every_other_operation_as_its_role(case, role_target):
    _call_check_and_compare(case, *role_target)


@scrypt_schema.include(operation_id=SCRYPT_OPERATIONS).parametrize()
@settings(max_examples=MAX_EXAMPLES, **SETTINGS)
def test_password_operations_as_their_role(case, role_target):
    _call_check_and_compare(case, *role_target)
