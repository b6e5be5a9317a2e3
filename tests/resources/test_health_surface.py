"""The cache and health surface tells no more than it must (issue 12): cached routes refuse unknown query
parameters, key-level cache statistics are for admins, health answers name no database host or user, and
error bodies name request fields, not the schema's constraints or columns."""
import json
from urllib.parse import urlsplit

import pytest

from apps.api.cache import get_cache
from tests.support.floor import client_call, device_headers, register_device


def _cached_routes(app):
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if hasattr(app.view_functions[rule.endpoint], "cache_ttl"))


def test_every_cached_route_refuses_unknown_parameters_and_caches_nothing(app, client, auth):
    routes = _cached_routes(app)
    assert len(routes) >= 4
    viewer = auth.headers("viewer")
    _, board = register_device(client_call(client, auth.headers("manager")), "board")
    for route in routes:
        # The board's feed is a board's (a device token), the rest a user's.
        kind = getattr(app.view_functions[app.url_map.bind("").match(route)[0]], "device_kind", None)
        headers = device_headers(board) if kind == "board" else viewer
        before = get_cache(app).stats()["total_entries"]
        for n in range(3):  # on main each of these made (and kept) an entry of its own
            response = client.get(f"{route}?x={n}", headers=headers)
            assert response.status_code == 400 and response.mimetype == "application/problem+json", route
            assert response.get_json()["errors"][0]["field"] == "x"
        assert get_cache(app).stats()["total_entries"] == before, route
        assert client.get(route, headers=headers).status_code == 200


def test_key_level_cache_statistics_are_for_admins_only(client, auth):
    client.get("/api/dashboard/stats", headers=auth.headers("admin"))
    probe = f"/api/dashboard/stats|user={auth.user_id('admin')}|role=admin"
    viewer = client.get("/api/health/cache", query_string={"prefix": probe}, headers=auth.headers("viewer"))
    assert viewer.status_code == 403  # on main: total_entries 1 told the viewer who is an admin
    admin = client.get("/api/health/cache", query_string={"prefix": probe}, headers=auth.headers("admin"))
    assert admin.status_code == 200 and admin.get_json()["cache_stats"]["total_entries"] == 1
    by_route = client.get("/api/health/cache?prefix=/api/dashboard/stats", headers=auth.headers("viewer"))
    assert by_route.status_code == 200 and by_route.get_json()["cache_stats"]["total_entries"] >= 1


def test_health_answers_name_no_database_host_address_or_user(app, client, auth, database_url):
    url = urlsplit(database_url)
    client.get("/api/dashboard/stats", headers=auth.headers("viewer"))  # starts the listener
    listener = get_cache(app).listener
    listener.last_error = None
    listener._lost(OSError(f'connection to server at "{url.hostname}", port {url.port} failed for user '
                           f'"{url.username}"'))  # what psycopg2 says when the database goes away
    texts = [client.get(path, headers=auth.headers("viewer")).get_data(as_text=True)
             for path in ("/api/health/db", "/api/health/db/test", "/api/health/cache", "/api/health/ready",
                          "/api/health")]
    for text in texts:
        assert url.hostname not in text and f'"{url.username}"' not in text and str(url.port) not in text, text
    assert json.loads(texts[2])["cache_stats"]["listener"]["last_error"] == "OSError"


@pytest.mark.parametrize("path, body, field", [
    ("/api/machines", {"name": "Press 1", "machine_type": "press"}, "name"),
    ("/api/customers", {"name": "Dup", "email": "dup@example.com"}, "email"),
])
def test_conflicts_name_the_request_field_not_the_constraint(client, auth, path, body, field):
    headers = auth.headers("admin")
    assert client.post(path, json=body, headers=headers).status_code == 201
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["errors"] == [{"field": field, "message": "A record with this value already exists."}]
    assert "_key" not in response.get_data(as_text=True)  # main answered e.g. "machines_name_key"
