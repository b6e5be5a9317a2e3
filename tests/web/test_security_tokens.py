"""Hostile tokens on every protected route, and horizontal access between users of the same role.

The routes come from the app's URL map, so a route added later is covered without editing this file: every
/api route but the contract's public four must answer every hostile Authorization header below with a 401
problem+json, and change no row. Path ids name real rows and write bodies are valid, so a route that forgot
its check would act, and be caught twice (status and rows).
"""
import re

import pytest

from apps.api.domain.devices import DEVICE_KINDS, new_token, token_hash
from tests.support.checks import changed_tables, fingerprint
from tests.support.factories import add_customer, add_job
from tests.support.routes import OUTSIDE_API, PUBLIC, url_map_routes
from tests.support.tokens import claims_for, forged_tokens, malformed_headers, signed
from tests.support.world import module_world

# A valid body per write route, so that only the token can be the reason for a refusal.
BODIES = {
    ("POST", "/api/customers"): {"name": "Intruder Inc"},
    ("PATCH", "/api/customers/<int:customer_id>"): {"name": "Renamed by intruder"},
    ("POST", "/api/customers/import"): {"customers": [{"name": "Intruder", "email": "i@example.com"}]},
    ("POST", "/api/jobs"): {"customer_id": "{customer_id}", "title": "Intruder job"},
    ("PATCH", "/api/jobs/<int:job_id>"): {"status": "cancelled"},
    ("POST", "/api/jobs/<int:job_id>/steps"): {"process_id": "{process_id}"},
    ("PATCH", "/api/steps/<int:step_id>"): {"status": "in_progress"},
    ("POST", "/api/machines"): {"name": "Intruder press", "machine_type": "press"},
    ("PATCH", "/api/machines/<int:machine_id>"): {"status": "offline"},
    ("POST", "/api/processes"): {"code": "intrude", "name": "Intrude", "default_order": 9},
    ("PATCH", "/api/processes/<int:process_id>"): {"name": "Intruded"},
    ("PUT", "/api/roles/<role:role>/permissions"): {"process_ids": []},
    ("POST", "/api/users"): {"username": "intruder", "full_name": "I", "role": "admin", "password": "pw-123456789"},
    ("PATCH", "/api/users/<int:user_id>"): {"role": "admin"},
    ("POST", "/api/health/cache/clear"): {},
}


def _protected_routes():
    routes = []
    for method, rule, _ in url_map_routes():
        if not rule.startswith("/api/"):
            assert rule in OUTSIDE_API, f"{rule} is outside /api: decide how it is protected"
        elif (method, rule) not in PUBLIC:
            routes.append((method, rule))
    return routes


ROUTES = _protected_routes()


@pytest.fixture(scope="module")
def world(test_database):
    """One app and real rows for every path parameter; tokens of an admin, a viewer, a deactivated admin."""
    with module_world(test_database, "Target Signs", "pending") as world:
        yield _arrange(world)


def _arrange(world):
    """Add a row for every other path parameter and the bad Authorization headers to try."""
    app, auth, conn = world.app, world.auth, world.conn
    customer, job, step = world.customer, world.job, world.step
    with conn.cursor() as cur:
        cur.execute("INSERT INTO machines (name, machine_type) VALUES ('Target press', 'press') RETURNING id")
        machine = cur.fetchone()[0]
        cur.execute("SELECT id FROM processes ORDER BY id LIMIT 1")
        process = cur.fetchone()[0]
        cur.execute("INSERT INTO notifications (user_id, kind, message) VALUES (%s, 'system', 'hi') RETURNING id",
                    (auth.user_id("admin"),))
        notification = cur.fetchone()[0]
        cur.execute("INSERT INTO audit_logs (action, entity) VALUES ('create', 'customers') RETURNING id")
        audit_log = cur.fetchone()[0]
        cur.execute("INSERT INTO users (username, role, password_hash, is_active) SELECT 'gone_admin', 'admin', "
                    "password_hash, false FROM users WHERE username = 'admin' RETURNING id")
        gone_admin = cur.fetchone()[0]
        devices = {}
        for kind in DEVICE_KINDS:  # a live device of each kind: the control of the device routes
            token = new_token()
            cur.execute("INSERT INTO devices (name, kind, token_hash) VALUES (%s, %s, %s) RETURNING id",
                        (f"Target {kind}", kind, token_hash(token)))
            devices[f"{kind}_id"], devices[f"{kind}_token"] = cur.fetchone()[0], token
    ids = {**devices, "device_id": devices["board_id"],
           "customer_id": customer, "job_id": job, "step_id": step, "machine_id": machine, "process_id": process,
           "notification_id": notification, "audit_log_id": audit_log, "user_id": auth.user_id("operator2"),
           "role": "operator", "session_id": auth.start_session("viewer")[0]}
    admin, viewer = (auth.user_id("admin"), "admin"), (auth.user_id("viewer"), "viewer")

    def session_token(user, kind, reason=None):
        """A well-signed token of a session that `reason` ended (None: a live one)."""
        sid, refresh_jti = auth.start_session("admin")
        with conn.cursor() as cur:
            cur.execute("UPDATE sessions SET user_id = %s, ended_at = CASE WHEN %s::text IS NULL THEN NULL "
                        "ELSE clock_timestamp() END, ended_reason = %s WHERE id = %s", (user[0], reason, reason, sid))
        extra = {"sid": sid, **({"jti": refresh_jti} if kind == "refresh" else {})}
        return signed(claims_for(*user, token_type=kind, **extra))

    headers = dict(malformed_headers(auth.token("admin")))
    for kind in ("access", "refresh"):
        tokens = forged_tokens((*admin, auth.start_session("admin")[0]),
                               (*viewer, auth.start_session("viewer")[0]), kind)
        tokens["logged out"] = session_token(admin, kind, "logout")
        tokens["session ended by an admin"] = session_token(admin, kind, "ended by admin")
        tokens["issued before a password change"] = session_token(admin, kind, "account changed")
        tokens["deactivated user, live session"] = session_token((gone_admin, "admin"), kind)
        tokens["no session id"] = signed(claims_for(*admin, token_type=kind))
        tokens["another user's session"] = signed(claims_for(*admin, token_type=kind, sid=ids["session_id"]))
        headers.update({f"{name} ({kind})": f"Bearer {token}" for name, token in tokens.items()})
    return app, app.test_client(), auth, conn, ids, headers


def _url(rule, ids):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda match: str(ids[match.group(1)]), rule)


def _body(method, rule, ids):
    body = BODIES.get((method, rule), {} if method in ("POST", "PUT", "PATCH") else None)
    if body is None:
        return None
    return {key: ids[value[1:-1]] if isinstance(value, str) and value.startswith("{") else value
            for key, value in body.items()}


def test_every_api_route_but_the_public_ones_is_checked():
    assert len(ROUTES) >= 50 and not set(ROUTES) & PUBLIC
    assert {("GET", "/api/users"), ("PATCH", "/api/steps/<int:step_id>"), ("POST", "/api/auth/refresh")} <= set(ROUTES)


@pytest.mark.parametrize("method, rule", ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_every_hostile_token_is_refused_and_changes_nothing(world, method, rule):
    app, client, auth, conn, ids, headers = world
    url, body = _url(rule, ids), _body(method, rule, ids)
    before = fingerprint(conn, exclude=())
    wrong = {}
    for kind, value in headers.items():
        response = client.open(url, method=method, json=body,
                               headers={"Authorization": value} if value is not None else {})
        problem = response.get_json(silent=True) or {}
        is_problem = response.mimetype == "application/problem+json" and problem.get("status") == 401
        if response.status_code != 401 or not is_problem:
            wrong[kind] = (response.status_code, problem.get("detail"))
        elif response.headers.get("WWW-Authenticate") != "Bearer":
            wrong[kind] = "no WWW-Authenticate: Bearer"
    assert wrong == {}, f"{method} {rule} let these through: {wrong}"
    assert changed_tables(before, fingerprint(conn, exclude=())) == []
    # The control, and the wrong kind of good token: a good admin access token is refused exactly where a
    # refresh token is accepted, and the reverse. Ids that exist nowhere, so the control changes none of
    # the rows the next routes are tried on.
    absent = _url(rule, {key: 999999 if isinstance(value, int) else value for key, value in ids.items()})
    statuses = [client.open(absent, method=method, json=body,
                            headers=auth.headers("admin", refresh=refresh)).status_code for refresh in (False, True)]
    [endpoint] = [found.endpoint for found in app.url_map.iter_rules()
                  if found.rule == rule and method in found.methods]
    kind = getattr(app.view_functions[endpoint], "device_kind", None)
    if kind:  # a device's route: no user's token is good there, its device's token is
        assert statuses == [401, 401], f"{method} {rule}: a user's token got {statuses}"
        device = client.open(absent, method=method, json=body or None,
                             headers={"Authorization": f"Bearer {ids[f'{kind}_token']}"}).status_code
        assert device != 401, f"{method} {rule}: its device's token got 401"
        return
    assert statuses.count(401) == 1, f"{method} {rule}: a good token got {statuses}"


OPERATORS = [f"operator{n}" for n in range(1, 6)]
EVERYONE = ["admin", "manager", *OPERATORS, "viewer"]


def test_no_operator_works_another_operators_step(client, auth, db):
    job = add_job(db, add_customer(db), "active", steps=[(auth.user_id(name), "pending") for name in OPERATORS])
    with db.cursor() as cur:
        cur.execute("SELECT assigned_to, id FROM job_steps WHERE job_id = %s", (job,))
        step_of = dict(cur.fetchall())
    before, let_through = fingerprint(db), []
    for actor in OPERATORS:
        for owner in OPERATORS:
            if owner == actor:
                continue
            step = step_of[auth.user_id(owner)]
            for change in ({"status": "in_progress"}, {"status": "skipped"}, {"assigned_to": auth.user_id(actor)}):
                response = client.patch(f"/api/steps/{step}", json=change, headers=auth.headers(actor))
                if response.status_code != 403 or response.mimetype != "application/problem+json":
                    let_through.append((actor, owner, change, response.status_code))
    assert let_through == []
    assert changed_tables(before, fingerprint(db)) == []
    for owner in OPERATORS:  # the control: each works their own
        response = client.patch(f"/api/steps/{step_of[auth.user_id(owner)]}", json={"status": "in_progress"},
                                headers=auth.headers(owner))
        assert response.status_code == 200, response.get_json()


def test_no_user_reads_or_marks_another_users_notifications(client, auth, db):
    owned = {}
    with db.cursor() as cur:
        for name in EVERYONE:
            cur.execute("INSERT INTO notifications (user_id, kind, message) SELECT %s, 'system', m "
                        "FROM unnest(ARRAY['first', 'second']) AS m RETURNING id", (auth.user_id(name),))
            owned[name] = sorted(row[0] for row in cur.fetchall())
    unknown = client.get("/api/notifications/999999", headers=auth.headers("viewer")).get_json()
    before, leaks = fingerprint(db), []
    for actor in EVERYONE:
        headers = auth.headers(actor)
        for owner in EVERYONE:
            for notification in owned[owner] if owner != actor else ():
                for response in (client.get(f"/api/notifications/{notification}", headers=headers),
                                 client.post(f"/api/notifications/{notification}/read", headers=headers)):
                    detail = response.get_json()["detail"].replace(str(notification), "999999")
                    if response.status_code != 404 or detail != unknown["detail"]:  # indistinguishable
                        leaks.append((actor, owner, response.status_code, detail))
        listed = client.get("/api/notifications", headers=headers).get_json()
        assert sorted(item["id"] for item in listed["items"]) == owned[actor], actor
    assert leaks == []
    assert changed_tables(before, fingerprint(db)) == []
    marked = client.post("/api/notifications/read-all", headers=auth.headers("operator1")).get_json()
    assert marked == {"marked": 2}
    with db.cursor() as cur:
        cur.execute("SELECT user_id, bool_and(is_read) FROM notifications GROUP BY user_id")
        read = dict(cur.fetchall())
    assert read == {auth.user_id(name): name == "operator1" for name in EVERYONE}
