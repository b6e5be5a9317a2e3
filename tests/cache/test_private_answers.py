"""What authenticated answers give away (issue 20): never stored by shared caches, never sniffed, ETags
that say nothing about write activity, and the server's limits and backend pids for admins only."""
import secrets

import pytest

from apps.api import open_resources
from apps.api.web.etags import pop_etag
from tests.support.factories import add_customer
from tests.support.waiting import eventually


@pytest.mark.parametrize("path, cache_control", [
    ("/api/customers", "private, no-store"),           # a list: no tag to revalidate with
    ("/api/customers/{customer}", "private, no-cache"),  # an item: its ETag revalidates
    ("/api/dashboard/stats", "private, no-cache"),       # a cached answer: ETag too
    ("/api/auth/me", "no-store"),                       # token and session answers: never kept at all
    ("/api/users", None),                               # a 403 problem is private too
])
def test_every_authenticated_answer_is_private_and_not_sniffed(client, auth, db, path, cache_control):
    path = path.format(customer=add_customer(db))
    answer = client.get(path, headers=auth.headers("viewer"))
    if cache_control is None:
        assert answer.status_code == 403
        cache_control = "private, no-store"
    assert answer.headers["Cache-Control"] == cache_control
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_refused_token_answer_is_private_and_public_answers_say_nosniff(client):
    refused = client.get("/api/customers", headers={"Authorization": "Bearer nonsense"})
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "private, no-store"
    public = client.get("/api/health")
    assert public.headers["X-Content-Type-Options"] == "nosniff" and "private" not in public.headers.get(
        "Cache-Control", "")


def test_etags_are_keyed_hashes_not_transaction_ids(client, auth, db, new_app, database_url):
    customer = add_customer(db)
    with db.cursor() as cur:
        cur.execute("SELECT xmin::text FROM customers WHERE id = %s", (customer,))
        xmin = cur.fetchone()[0]
    path = f"/api/customers/{customer}"
    etag = client.get(path, headers=auth.headers("viewer")).headers["ETag"]
    assert xmin not in etag and len(etag.strip('"')) == 24
    # The tag is the version under a key derived from the secret: another secret, another tag.
    other = new_app(database_url, JWT_SECRET_KEY="another-" + secrets.token_urlsafe(32))
    for application, same in ((client.application, True), (other, False)):
        with application.app_context():
            assert (pop_etag({"row_version": xmin}) == etag) is same
    assert client.patch(path, json={"phone": "555"}, headers={**auth.headers("manager"), "If-Match": etag}
                        ).status_code == 200


def test_server_limits_and_backend_pids_are_for_admins(app, auth):
    open_resources(app)  # this process's heartbeat: the ?scope=all answers list it
    client = app.test_client()

    def answers(user):
        db_health = client.get("/api/health/db?scope=all", headers=auth.headers(user)).get_json()
        cache = client.get("/api/health/cache?scope=all", headers=auth.headers(user)).get_json()
        return db_health, cache

    assert eventually(lambda: answers("admin")[1].get("workers"), 10, step=0.1)
    db_health, cache = answers("admin")
    assert db_health["server"]["max_connections"] > 0 and "server_version" in db_health["server"]
    assert "backend_pid" in cache["cache_stats"]["listener"]
    assert all("backend_pid" in w["cache_stats"]["listener"] for w in cache["workers"])
    for user in ("viewer", "operator1", "manager"):
        db_health, cache = answers(user)
        assert db_health["server"] == {} and "max_connections" not in str(db_health["recommendations"])
        assert "backend_pid" not in cache["cache_stats"]["listener"]
        assert cache["workers"] and all("backend_pid" not in w["cache_stats"]["listener"] for w in cache["workers"])
