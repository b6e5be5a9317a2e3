"""Schema-driven fuzzing: schemathesis generates requests for every operation of GET /api/openapi.json.

test_all_checks_and_the_stateful_phase_over_http runs schemathesis as its CLI would be run against a real
gunicorn: every check but positive_data_acceptance (which cannot know that a generated id names no row), every
phase including the stateful one (sequences of calls linked by the ids the answers carry), a fresh admin token
per request (tests/support/fuzz_hooks.py). The other tests drive each operation in process, as two roles,
over a freshly reset database.

Each generated request goes through the Flask app (WSGI, no network) against a database reset per operation:
as a viewer and as an admin where a token is needed (fresh tokens, so a generated logout revokes nothing
later requests need), without one where none is. Every answer must be: no 500, a documented status code,
the documented content type and headers, a body matching the documented schema; and input the document
calls invalid must be refused with a 4xx.
"""
import os
import re
import subprocess
import sys

import pytest
from hypothesis import settings

from apps.api.config import PROJECT_ROOT
from tests.support.apps import module_app
from tests.support.auth import TEST_SECRET
from tests.support.database import reset_database
from tests.support.fuzz import SCRYPT_OPERATIONS, SETTINGS, call_and_check, document_schemas
from tests.support.gunicorn import GunicornServer

# Bounded so the run stays near a minute on 2 cores; explore further locally with FUZZ_EXAMPLES=200.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))

pytestmark = pytest.mark.fuzz
schema, scrypt_schema = document_schemas()

# The CLI run over HTTP: examples per operation and stateful scenarios, and the seed (fixed: a failure repeats).
HTTP_EXAMPLES = os.environ.get("FUZZ_HTTP_EXAMPLES", "20")
HTTP_SEED = os.environ.get("FUZZ_HTTP_SEED", "1")
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


@pytest.mark.multiprocess
def test_all_checks_and_the_stateful_phase_over_http(database_url, auth, tmp_path):
    with GunicornServer(database_url, workers=1, threads=4, env={"RATE_LIMITS_ENABLED": "false"}) as server:
        env = dict(os.environ, SCHEMATHESIS_HOOKS="tests.support.fuzz_hooks", FUZZ_ADMIN_ID=str(auth.user_id("admin")),
                   FUZZ_DATABASE_URL=database_url, FUZZ_JWT_SECRET=TEST_SECRET, PYTHONPATH=str(PROJECT_ROOT))
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file",
             str(PROJECT_ROOT / "tests/support/schemathesis.toml"), "run",
             f"{server.base_url}/api/openapi.json", "--checks", "all", "--exclude-checks", "positive_data_acceptance",
             "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", HTTP_EXAMPLES, "--seed", HTTP_SEED,
             "--no-color"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)  # its cache goes there
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    scenarios = re.search(r"Scenarios:\s+(\d+)", report)
    assert scenarios and int(scenarios.group(1)) > 0, "the stateful phase did not run"
    cases = re.search(r"(\d+) generated, \1 passed", report)
    assert cases, report[-3000:]
    assert "Authentication failed" not in report, report[-3000:]  # the requests reached the API as an admin
    print(f"\n[measured] schemathesis over HTTP: {cases.group(1)} cases, {scenarios.group(1)} stateful scenarios, "
          "0 failures", flush=True)
