"""Every route of the URL map x every caller (no token, viewer, operator, manager, admin).

The expected minimum role of a route is its view's `required_role` (set by `require_role`); every /api route
but the contract's public ones must have one, and where the contract names the role, it must match.
"""
import re

import pytest

from apps.api.web.auth import ROLE_RANK
from tests.support.apps import module_app
from tests.support.routes import DEVICE, OUTSIDE_API, PUBLIC, url_map_routes

CALLERS = {None: None, "viewer": "viewer", "operator1": "operator", "manager": "manager", "admin": "admin"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ROLE_REFUSAL = "This action needs the"

# The contract's read/write table (api-contract.md), first match wins: (methods, path pattern, minimum role).
CONTRACT = [
    ({"PATCH"}, r"^/api/steps/", "operator"),  # its assigned operator (checked per step), or manager
    ({"GET"}, r"^/api/(customers|jobs|machines|steps|processes|roles)\b", "viewer"),  # and machines/<id>/queue
    (WRITES, r"^/api/(customers|jobs|machines|steps)\b", "manager"),
    (WRITES, r"^/api/(processes|roles)\b", "admin"),
    ({"PUT"}, r"^/api/users/[^/]+/pin$", "viewer"),  # the user themselves (fresh login), or an admin
    ({"GET"} | WRITES, r"^/api/devices\b", "manager"),
    ({"GET"}, r"^/api/users\b", "manager"),  # a reduced shape; admins get every field
    (WRITES, r"^/api/users\b", "admin"),
    ({"GET"}, r"^/api/me/steps$", "viewer"),
    ({"GET"}, r"^/api/pause-reasons$", "viewer"),
    ({"POST"}, r"^/api/pause-reasons$", "admin"),
    ({"GET"}, r"^/api/reports/", "manager"),
    ({"GET"}, r"^/api/audit-logs\b", "admin"),
    ({"GET"} | WRITES, r"^/api/notifications\b", "viewer"),
    ({"GET"}, r"^/api/(dashboard|health/db|health/cache)\b", "viewer"),
    ({"POST"}, r"^/api/health/cache/clear$", "admin"),
    ({"GET"} | WRITES, r"^/api/auth/(me|logout|refresh|token|sessions)", "viewer"),
]
# A value for each kind of path parameter; ids that exist nowhere, so no allowed call changes a real row.
SAMPLE_ARGUMENTS = {"IntegerConverter": "999999", "RoleConverter": "viewer", "PathConverter": "none.txt",
                    "UUIDConverter": "00000000-0000-4000-8000-000000000000"}


ROUTES = url_map_routes()


@pytest.fixture(scope="module")
def gate(test_database):
    """One app, client and token maker for the whole table: no allowed call here changes a real row, so the
    database is reset once (per route it would cost most of this module's time)."""
    with module_app(test_database) as (app, auth, _):
        yield app, app.test_client(), auth


def _url(app, method, rule_text):
    [rule] = [rule for rule in app.url_map.iter_rules() if rule.rule == rule_text and method in rule.methods]
    values = {name: SAMPLE_ARGUMENTS.get(type(converter).__name__, "x")
              for name, converter in rule._converters.items()}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda match: values[match.group(1)], rule_text)


def _call(client, auth, method, url, username, refresh=False):
    headers = auth.headers(username, refresh=refresh) if username else {}
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.open(url, method=method, json=body, headers=headers)


def _contract_role(method, path):
    for methods, pattern, role in CONTRACT:
        if method in methods and re.search(pattern, path):
            return role
    return None


def test_every_route_has_an_expectation():
    """Every route of the URL map is public, outside /api with its own protection, or has a contract role."""
    without = [f"{method} {rule}" for method, rule, _ in ROUTES
               if (method, rule) not in PUBLIC | DEVICE and rule not in OUTSIDE_API
               and _contract_role(method, rule) is None]
    assert without == [], "routes with no expected role: add them to CONTRACT (or PUBLIC / OUTSIDE_API)"
    routes = {(method, rule) for method, rule, _ in ROUTES}
    assert PUBLIC <= routes and set(OUTSIDE_API) <= {rule for _, rule in routes}, "an expectation names no route"
    unused = [pattern for methods, pattern, _ in CONTRACT
              if not any(method in methods and re.search(pattern, rule) for method, rule in routes)]
    assert unused == [], f"contract rows that match no route: {unused}"


@pytest.mark.parametrize("method, rule, view", ROUTES, ids=[f"{m} {r}" for m, r, _ in ROUTES])
def test_role_gate(gate, method, rule, view):
    app, client, auth = gate
    required = getattr(view, "required_role", None)
    if (method, rule) in DEVICE:  # a device's token only: every user, and nobody, is refused
        assert required is None and getattr(view, "device_kind", None), f"{method} {rule} is no device route"
        url = _url(app, method, rule)
        assert {_call(client, auth, method, url, username).status_code for username in CALLERS} == {401}
        return
    if rule.startswith("/api/") and (method, rule) not in PUBLIC:
        assert required in ROLE_RANK, f"{method} {rule} has no role check"
        expected = _contract_role(method, rule)
        assert required == expected, f"{method} {rule}: contract says {expected}, view requires {required}"
    else:
        assert required is None, f"{method} {rule} is public but its view requires {required}"
    url = _url(app, method, rule)

    if required is None:
        statuses = {_call(client, auth, method, url, username).status_code for username in CALLERS}
        assert len(statuses) == 1 and not statuses & {401, 403}, statuses  # the same answer for everyone
        return
    for username, role in CALLERS.items():
        response = _call(client, auth, method, url, username)
        if username and response.status_code == 401 and "refresh" in response.get_json()["detail"]:
            response = _call(client, auth, method, url, username, refresh=True)  # a refresh-token route
        status, problem = response.status_code, response.get_json(silent=True) or {}
        if role is None:
            assert status == 401 and response.mimetype == "application/problem+json", (username, status)
        elif ROLE_RANK[role] < ROLE_RANK[required]:
            assert status == 403 and response.mimetype == "application/problem+json", (username, status)
        else:
            assert status != 401, (username, problem)
            assert not (status == 403 and problem.get("detail", "").startswith(ROLE_REFUSAL)), (username, problem)
            assert status < 500, (username, problem)


def test_audit_logs_are_append_only():
    assert {method for method, rule, _ in ROUTES if rule.startswith("/api/audit-logs")} == {"GET"}
