"""The per-user response cache in one process: keys, ETags, single flight, staleness, bounds, stats, clear."""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.api.cache import get_cache
from apps.api.web.cached import cache_key
from tests.support.auth import get_as
from tests.support.probe import Probe
from tests.support.waiting import eventually


@pytest.fixture
def probe(app):
    return Probe(app)


def get(client, auth, path, user="operator1", **headers):
    return get_as(client, auth, path, user, **headers)


def concurrently(count, call):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_miss_then_hit_with_etag_and_304(client, auth, probe):
    first = get(client, auth, "/api/probe")
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "private, no-cache"
    second = get(client, auth, "/api/probe")
    assert second.headers["X-Cache"] == "HIT" and second.headers["ETag"] == etag
    assert second.get_json() == first.get_json()
    not_modified = get(client, auth, "/api/probe", **{"If-None-Match": f'"other", {etag}'})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert not_modified.headers["X-Cache"] == "HIT" and not_modified.headers["ETag"] == etag
    assert get(client, auth, "/api/probe", **{"If-None-Match": '"other"'}).status_code == 200
    assert probe.calls == 1


def test_the_gzip_answers_tag_also_gives_304(client, auth, probe):
    etag = get(client, auth, "/api/probe").headers["ETag"]
    zipped_tag = f'"{etag.strip(chr(34))}-gzip"'  # what a gzip-coded 200 of this entry is tagged
    assert get(client, auth, "/api/probe", **{"If-None-Match": zipped_tag}).status_code == 304


def test_users_never_share_an_entry(client, auth, probe):
    for _ in range(3):
        for user in ("operator1", "operator2", "viewer"):
            assert get(client, auth, "/api/probe", user).get_json()["user"] == auth.user_id(user)
    assert probe.calls == 3


def test_key_has_route_user_role_and_sorted_query():
    assert cache_key("/api/x", 7, "viewer", [("b", "2"), ("a", "1")]) == "/api/x|user=7|role=viewer|a=1&b=2"
    assert cache_key("/api/x", 7, "viewer", []) != cache_key("/api/x", 7, "admin", [])
    assert cache_key("/api/x", 7, "viewer", []) != cache_key("/api/x", 8, "viewer", [])


def test_validated_query_is_normalized(client, auth):
    for query in ("", "?months=12", "?months=012"):
        get(client, auth, f"/api/dashboard/chart/jobs-by-month{query}")
    assert get(client, auth, "/api/dashboard/chart/jobs-by-month?months=3").headers["X-Cache"] == "MISS"
    stats = get(client, auth, "/api/health/cache?prefix=/api/dashboard/chart/jobs-by-month").get_json()["cache_stats"]
    assert stats["total_entries"] == 2 and stats["hits"] == 2 and stats["misses"] == 2


def test_errors_and_non_json_answers_are_never_cached(client, auth, probe):
    probe.fail = True
    assert get(client, auth, "/api/probe").status_code == 503
    probe.fail = False
    answer = get(client, auth, "/api/probe")
    assert answer.status_code == 200 and answer.headers["X-Cache"] == "MISS"
    assert get(client, auth, "/api/probe", "operator2").headers["X-Cache"] == "MISS"
    probe.answer = ({"queued": True}, 202)
    response = get(client, auth, "/api/probe", "viewer")
    assert response.status_code == 202 and response.get_json() == {"queued": True}
    assert "X-Cache" not in response.headers
    assert get(client, auth, "/api/probe", "viewer").status_code == 202
    assert probe.calls == 5


def test_bad_input_never_reaches_the_cache(client, auth):
    assert get(client, auth, "/api/dashboard/recent-jobs?limit=0").status_code == 422
    stats = get(client, auth, "/api/health/cache").get_json()["cache_stats"]
    assert stats["total_entries"] == 0 and stats["misses"] == 0


def test_concurrent_misses_load_once(client, auth, probe):
    probe.delay = 0.3
    responses = concurrently(20, lambda: get(client, auth, "/api/probe"))
    assert probe.calls == 1
    assert {r.status_code for r in responses} == {200}
    assert len({r.data for r in responses}) == 1
    assert sorted(r.headers["X-Cache"] for r in responses).count("MISS") == 1
    stats = get_cache(client.application).stats("/api/probe")
    assert stats["misses"] == 1 and stats["coalesced"] == 19 and stats["loads"] == 1


def test_a_failed_load_fails_its_waiters_and_is_retried_later(client, auth, probe):
    probe.delay, probe.fail = 0.3, True
    responses = concurrently(10, lambda: get(client, auth, "/api/probe"))
    assert [r.status_code for r in responses] == [503] * 10
    assert all(r.mimetype == "application/problem+json" for r in responses)
    assert probe.calls == 1
    probe.delay, probe.fail = 0.0, False
    assert get(client, auth, "/api/probe").status_code == 200 and probe.calls == 2


def test_stale_entry_is_served_while_one_request_refreshes_it(client, auth, probe):
    assert get(client, auth, "/api/probe-short").get_json()["value"] == 1
    time.sleep(0.35)  # past the 0.3 s TTL, within the stale window
    probe.value, probe.delay = 2, 0.5
    with ThreadPoolExecutor(1) as pool:
        refreshing = pool.submit(get, client, auth, "/api/probe-short")
        assert eventually(lambda: probe.calls == 2, timeout=1.0)
        stale = get(client, auth, "/api/probe-short")
        refreshed = refreshing.result()
    assert stale.get_json()["value"] == 1 and stale.headers["X-Cache"] == "HIT"
    assert stale.headers["X-Cache-Stale"] == "true"
    assert refreshed.get_json()["value"] == 2 and refreshed.headers["X-Cache"] == "MISS"
    probe.delay = 0.0
    fresh = get(client, auth, "/api/probe-short")
    assert fresh.get_json()["value"] == 2 and "X-Cache-Stale" not in fresh.headers
    assert probe.calls == 2


def test_expired_entries_are_counted_then_swept(client, auth, probe):
    get(client, auth, "/api/probe-short")
    get(client, auth, "/api/probe")
    cache = get_cache(client.application)
    time.sleep(0.35)
    stats = cache.stats()
    assert (stats["total_entries"], stats["active_entries"], stats["expired_entries"]) == (2, 1, 1)
    time.sleep(0.3)  # past the stale window too
    cache.sweep()
    stats = cache.stats()
    assert (stats["total_entries"], stats["active_entries"], stats["expired_entries"]) == (1, 1, 0)


def test_entries_are_bounded_with_lru_eviction(app, auth, probe):
    app.config["CACHE_MAX_ENTRIES"] = 3
    client = app.test_client()
    for n in (1, 2, 3):
        get(client, auth, f"/api/probe?n={n}")
    get(client, auth, "/api/probe?n=1")  # n=1 is now the most recently used
    get(client, auth, "/api/probe?n=4")  # evicts n=2
    get(client, auth, "/api/probe?n=5")  # evicts n=3
    stats = get_cache(app).stats()
    assert stats["total_entries"] == 3 and stats["evictions"] == 2
    assert get(client, auth, "/api/probe?n=1").headers["X-Cache"] == "HIT"
    assert get(client, auth, "/api/probe?n=2").headers["X-Cache"] == "MISS"


def test_an_answer_invalidated_while_loading_is_not_stored(client, auth, probe):
    probe.delay = 0.3
    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(get, client, auth, "/api/probe")
        assert eventually(lambda: probe.calls == 1, timeout=1.0)
        get_cache(client.application).invalidate("/api/probe")
        assert loading.result().headers["X-Cache"] == "MISS"
    probe.delay = 0.0
    assert get(client, auth, "/api/probe").headers["X-Cache"] == "MISS"
    assert probe.calls == 2


def test_nothing_is_cached_while_the_listener_is_down(client, auth, probe):
    get(client, auth, "/api/probe")
    cache = get_cache(client.application)
    cache.listener.stop()
    assert cache.stats()["listener"]["state"] == "stopped"
    # Stopping cleared nothing by itself, but no new answer is stored without a listener.
    cache.invalidate()
    assert [get(client, auth, "/api/probe").headers["X-Cache"] for _ in range(3)] == ["MISS"] * 3
    assert cache.stats()["total_entries"] == 0 and probe.calls == 4


def test_cache_stats_shape_and_prefix(client, auth, probe):
    get(client, auth, "/api/probe")
    get(client, auth, "/api/probe")
    get(client, auth, "/api/dashboard/stats")
    response = get(client, auth, "/api/health/cache", "admin")  # pid: admins only
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    stats = response.get_json()["cache_stats"]
    assert {"total_entries", "active_entries", "expired_entries", "hits", "misses", "evictions", "hit_rate",
            "by_prefix", "pid", "booted_at", "listener"} <= set(stats)
    assert stats["total_entries"] == 2 and stats["hits"] == 1 and stats["misses"] == 2
    assert stats["hit_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert stats["pid"] == os.getpid() and stats["listener"]["state"] == "listening"
    assert stats["by_prefix"]["/api/probe"]["entries"] == 1
    only = get(client, auth, "/api/health/cache?prefix=/api/dashboard/").get_json()["cache_stats"]
    assert only["total_entries"] == 1 and only["hits"] == 0 and list(only["by_prefix"]) == ["/api/dashboard/stats"]
    assert client.get("/api/health/cache").status_code == 401


@pytest.mark.parametrize("user", ["manager", "operator1", "viewer"])
def test_only_an_admin_clears(client, auth, probe, user):
    get(client, auth, "/api/probe")
    response = client.post("/api/health/cache/clear", headers=auth.headers(user))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert get(client, auth, "/api/probe").headers["X-Cache"] == "HIT"


def test_clear_everything_or_a_prefix(client, auth, probe):
    get(client, auth, "/api/probe")
    get(client, auth, "/api/dashboard/stats")
    get(client, auth, "/api/dashboard/recent-jobs")
    response = client.post("/api/health/cache/clear", json={"prefix": "/api/dashboard/"},
                           headers=auth.headers("admin"))
    assert response.status_code == 200 and response.get_json() == {
        "status": "ok", "cleared": 2, "prefix": "/api/dashboard/"}
    assert get(client, auth, "/api/probe").headers["X-Cache"] == "HIT"
    assert get(client, auth, "/api/dashboard/stats").headers["X-Cache"] == "MISS"
    response = client.post("/api/health/cache/clear", headers=auth.headers("admin"))
    assert response.get_json()["cleared"] == 2
    assert get(client, auth, "/api/probe").headers["X-Cache"] == "MISS"


@pytest.mark.parametrize("kwargs, status", [
    ({"json": {"prefix": 5}}, 422), ({"json": {"prefix": "x" * 201}}, 422), ({"json": {"other": 1}}, 422),
    ({"json": ["/api"]}, 400), ({"data": "{not json", "content_type": "application/json"}, 400),
])
def test_bad_clear_bodies_are_problems_and_clear_nothing(client, auth, probe, kwargs, status):
    get(client, auth, "/api/probe")
    response = client.post("/api/health/cache/clear", headers=auth.headers("admin"), **kwargs)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert get(client, auth, "/api/probe").headers["X-Cache"] == "HIT"


def test_a_clear_reaches_another_worker_through_the_database(client, auth, probe, database_url, new_app):
    other = new_app(database_url)  # a second app: its own cache and listener, like a worker
    other_client = other.test_client()
    get(other_client, auth, "/api/dashboard/stats")
    assert get(other_client, auth, "/api/dashboard/stats").headers["X-Cache"] == "HIT"
    assert client.post("/api/health/cache/clear", headers=auth.headers("admin")).status_code == 200
    assert eventually(lambda: get_cache(other).stats()["total_entries"] == 0, timeout=1.0)
    assert get(other_client, auth, "/api/dashboard/stats").headers["X-Cache"] == "MISS"


def test_cache_can_be_bypassed_for_the_benchmark(database_url, auth, new_app):
    client = new_app(database_url, CACHE_ENABLED=False).test_client()
    headers = auth.headers("operator1")
    answers = [client.get("/api/dashboard/stats", headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.headers["X-Cache"] for a in answers] == ["BYPASS", "BYPASS"]


def test_without_single_flight_every_concurrent_miss_loads(database_url):
    from apps.api.cache import ResponseCache

    cache = ResponseCache(100, database_url, single_flight=False).start()
    gate, loads = threading.Barrier(4), []

    def load():
        loads.append(1)
        time.sleep(0.2)  # a slow query: the other requests arrive while it runs
        return b'{"n": 1}'

    def request():
        gate.wait()
        cache.fetch("/k|user=1", "/k", 30, load)

    try:
        threads = [threading.Thread(target=request) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(loads) == 4, "without single flight, every concurrent miss loads"
        assert cache.fetch("/k|user=1", "/k", 30, load)[1] == "HIT"
    finally:
        cache.close()
