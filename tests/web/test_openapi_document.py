"""The OpenAPI 3.1 document: valid, every operation typed and named, and good enough to generate a client that
works: a Python client made by openapi-python-client runs a shop-floor flow against the real app."""
import re
import subprocess
import sys

import httpx
import pytest
from openapi_spec_validator import validate

from apps.api.resources.notifications import KINDS

CAMEL_CASE = re.compile(r"[a-z]+([A-Z][a-z0-9]*)*")


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").get_json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_the_document_validates(document):
    validate(document)  # raises on the first problem
    assert document["openapi"].startswith("3.1")


def test_every_operation_has_a_readable_unique_id_and_a_typed_success(document):
    ids = [operation["operationId"] for _, operation in operations(document)]
    assert len(ids) == len(set(ids)) and all(CAMEL_CASE.fullmatch(name) for name in ids), ids
    assert {"listJobs", "createJob", "getJob", "updateJob", "deleteJob", "listMySteps", "listMachineQueue",
            "login", "getMe"} <= set(ids)
    schemas = document["components"]["schemas"]
    for label, operation in operations(document):
        status, success = next((code, answer) for code, answer in operation["responses"].items()
                               if code.startswith("2"))
        if status == "204":
            continue
        schema = success["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        assert schema.get("properties"), f"{label} answers an untyped object"


def test_items_document_their_etag_and_if_match(document):
    job = document["paths"]["/api/jobs/{job_id}"]
    assert "ETag" in job["get"]["responses"]["200"]["headers"]
    for method in ("patch", "delete"):
        assert "412" in job[method]["responses"]
        assert any(parameter["name"] == "If-Match" for parameter in job[method]["parameters"])


def test_every_notification_kind_is_listed(document):
    kind = document["components"]["schemas"]["Notification"]["properties"]["kind"]
    assert set(kind["enum"]) == set(KINDS) == {"step_assigned", "job_status", "job_overdue", "system"}


@pytest.fixture
def generated_client(document, tmp_path):
    """Generate the client into a temporary directory (no network) and import it."""
    import json

    (tmp_path / "openapi.json").write_text(json.dumps(document))
    (tmp_path / "config.yaml").write_text("post_hooks: []\npackage_name_override: printshop_client\n")
    subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", "openapi.json",
                    "--config", "config.yaml", "--meta", "none", "--output-path", "printshop_client",
                    "--fail-on-warning"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    sys.path.insert(0, str(tmp_path))
    try:
        import printshop_client
        yield printshop_client
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith("printshop_client")]:
            del sys.modules[name]


@pytest.mark.multiprocess  # generates the client in a subprocess
def test_a_generated_client_runs_the_shop_floor_flow(generated_client, app, auth):
    from printshop_client import AuthenticatedClient, Client
    from printshop_client.api.auth import get_me, login, logout
    from printshop_client.api.customers import create_customer
    from printshop_client.api.dashboard import get_dashboard_stats
    from printshop_client.api.jobs import create_job, get_job
    from printshop_client.api.processes import list_processes
    from printshop_client.api.queues import list_my_steps
    from printshop_client.api.steps import get_step, update_step
    from printshop_client.api.users import list_users
    from printshop_client.models import CustomerBody, JobCreate, LoginBody, StepIn, StepPatch, StepPatchStatus

    transport = httpx.WSGITransport(app=app)  # the real app and database, in process

    def session(username):
        anonymous = Client(base_url="http://localhost", httpx_args={"transport": transport})
        answer = login.sync(client=anonymous, body=LoginBody(username=username, password="demo"))
        assert answer.user.username == username and answer.access_token
        return AuthenticatedClient(base_url="http://localhost", token=answer.access_token,
                                   httpx_args={"transport": transport})

    manager = session("manager")
    customer = create_customer.sync(client=manager, body=CustomerBody(name="Generated Client Ltd"))
    processes = {process.code: process.id for process in list_processes.sync(client=manager).items}
    operator_id = next(user.id for user in list_users.sync(client=manager, role="operator").items
                       if user.username == "operator1")
    job = create_job.sync(client=manager, body=JobCreate(customer_id=customer.id, title="Window vinyl", steps=[
        StepIn(process_id=processes["print"], assigned_to=operator_id), StepIn(process_id=processes["cut"])]))
    assert job.job_number.startswith("JOB-") and job.steps_total == 2 and job.steps[0].assigned_to == operator_id

    operator = session("operator1")
    assert get_me.sync(client=operator).id == operator_id
    read = get_step.sync_detailed(job.steps[0].id, client=operator)
    started = update_step.sync(job.steps[0].id, client=operator, if_match=read.headers["etag"],
                               body=StepPatch(status=StepPatchStatus.IN_PROGRESS))
    assert started.status == "in_progress" and started.job_status == "in_progress"
    assert get_job.sync(job.id, client=manager).status == "in_progress"

    stats = get_dashboard_stats.sync(client=operator)
    assert stats.tasks.in_progress == 1
    queue = list_my_steps.sync(client=operator)
    assert [(item.job_number, item.customer_name, item.status) for item in queue.items] == [
        (job.job_number, "Generated Client Ltd", "in_progress")]

    assert logout.sync(client=operator).session_id
    assert get_me.sync_detailed(client=operator).status_code == 401
