"""The request context: set once per request by the web layer, read by g, the audit trail, the database's
caller hook and the log lines; nothing of it outlives its request."""
import json
import logging

from flask import Blueprint, g

from apps.api.db import caller
from apps.api.ops.logs import JsonFormatter
from apps.api.runtime import context
from apps.api.runtime.context import OUTSIDE, RequestContext


def test_outside_a_request_nobody_serves_and_writes_are_allowed():
    assert context.current() == OUTSIDE
    assert (OUTSIDE.user_id, OUTSIDE.writes, caller.writing_user()) == (None, True, None)


def test_identify_and_freshness_change_only_this_context():
    context.begin(RequestContext(address="10.1.2.3", request_id="r-1", writes=True))
    try:
        context.identify(7, "manager")
        context.need_fresh_after(5.0)
        context.need_fresh_after(2.0)  # never earlier than asked before
        assert context.current() == RequestContext(7, "manager", "10.1.2.3", "r-1", True, 5.0)
        assert caller.writing_user() == 7 and caller.current().fresh_after == 5.0
        line = json.loads(JsonFormatter().format(logging.makeLogRecord({"msg": "hello"})))
        assert line["request_id"] == "r-1"
    finally:
        context.end()
    assert context.current() == OUTSIDE


def test_one_request_sets_it_once_and_everything_reads_it(app, client, auth, db):
    seen = {}
    probe = Blueprint("context_probe", __name__)

    @probe.post("/api/context-probe")
    def context_probe():
        from apps.api.web.auth import require_role

        @require_role("viewer")
        def inner():
            seen["context"] = context.current()
            seen["g"] = (g.user_id, g.role, g.request_id, g.get("user_id"), "role" in g)
            seen["caller"] = caller.writing_user()
            return {}

        return inner()

    app.register_blueprint(probe)
    response = client.post("/api/context-probe", headers={**auth.headers("operator1"), "X-Request-ID": "probe-1"},
                           environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 200, response.get_json()
    operator = auth.user_id("operator1")
    assert seen["context"] == RequestContext(operator, "operator", "10.9.8.7", "probe-1", True, 0.0)
    assert seen["g"] == (operator, "operator", "probe-1", operator, True)
    assert seen["caller"] == operator
    assert context.current() == OUTSIDE  # ended at teardown


def test_the_audit_trail_records_the_contexts_user_and_address(client, auth, db):
    response = client.post("/api/customers", json={"name": "Context Co"}, headers=auth.headers("manager"),
                           environ_base={"REMOTE_ADDR": "10.4.4.4"})
    assert response.status_code == 201, response.get_json()
    with db.cursor() as cur:
        cur.execute("SELECT user_id, host(ip) FROM audit_logs WHERE entity = 'customers' AND entity_id = %s",
                    (response.get_json()["id"],))
        assert cur.fetchone() == (auth.user_id("manager"), "10.4.4.4")


def test_setting_g_writes_the_one_context(app):
    with app.test_request_context("/api/health", environ_base={"REMOTE_ADDR": "10.2.2.2"}):
        app.preprocess_request()
        g.user_id, g.role = None, "device:scanner"
        assert (context.current().user_id, context.current().role, context.current().address) == (
            None, "device:scanner", "10.2.2.2")
        assert (g.user_id, g.role) == (None, "device:scanner")
    assert context.current() == OUTSIDE
