"""Login attacks: brute force and spraying are rate limited whatever the attacker varies, and a login
answers an unknown user exactly like a wrong password (same status, same words, comparable time).

tests/ops/test_operations.py checks the plain per-username and per-address limits, and
tests/functional/test_production_gunicorn.py that they hold across workers; this adds what an attacker would try.
"""
import statistics
import time

import pytest

from apps.api.domain.passwords import hash_password
from tests.support.auth import DEMO_PASSWORD, login
from tests.support.passwords import PRODUCTION_METHOD, TEST_METHOD, use_method

LOGIN = "/api/auth/login"


@pytest.fixture
def make_client(new_app):
    """Build a client of an app with these settings (closed after the test)."""
    def make(database_url, **settings):
        return new_app(database_url, **settings).test_client()

    return make


def test_spraying_many_usernames_from_one_address_is_limited_and_a_forged_header_changes_nothing(
        database_url, make_client):
    # Not behind a proxy (FORWARDED_ALLOW_IPS unset): X-Forwarded-For is the client's own words, ignored.
    client = make_client(database_url, RATE_LIMIT_LOGIN_IP="5/60")
    statuses = [login(client, f"user{n}", "Winter2026!", forwarded_for=f"203.0.113.{n}").status_code
                for n in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    refused = login(client, "admin", DEMO_PASSWORD, forwarded_for="198.51.100.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1, "the right password too"


def test_behind_a_proxy_only_the_address_the_proxy_saw_counts(database_url, make_client):
    # The proxy appends the address it saw; what the client put before it is the client's own words.
    client = make_client(database_url, RATE_LIMIT_LOGIN_IP="5/60", FORWARDED_ALLOW_IPS="127.0.0.1")
    statuses = [login(client, f"user{n}", "x", forwarded_for=f"10.0.0.{n}, 198.51.100.7").status_code
                for n in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    assert login(client, "user9", "x", forwarded_for="198.51.100.8").status_code == 401  # another client


def test_one_account_attacked_from_many_addresses_is_limited_however_the_name_is_spelled(database_url, make_client):
    client = make_client(database_url, RATE_LIMIT_LOGIN_USER="4/300", FORWARDED_ALLOW_IPS="127.0.0.1")
    spellings = ["manager", "Manager", " MANAGER", "manager ", "mAnAgEr", "manager"]
    statuses = [login(client, name, "guess", forwarded_for=f"198.51.100.{n}").status_code
                for n, name in enumerate(spellings)]
    assert statuses == [401] * 4 + [429] * 2
    assert login(client, "manager", DEMO_PASSWORD, forwarded_for="198.51.100.99").status_code == 429
    assert login(client, "viewer", DEMO_PASSWORD, forwarded_for="198.51.100.99").status_code == 200


def test_the_limit_treats_unknown_and_known_usernames_alike(database_url, make_client):
    """A 429 that came only for real accounts would tell which accounts exist."""
    client = make_client(database_url, RATE_LIMIT_LOGIN_USER="3/300")
    for username in ("viewer", "no-such-user"):
        assert [login(client, username, "guess").status_code for _ in range(4)] == [401, 401, 401, 429]


def test_refusals_do_not_tell_which_part_was_wrong(database_url, db, make_client):
    with db.cursor() as cur:
        cur.execute("UPDATE users SET is_active = false WHERE username = 'operator5'")
    client = make_client(database_url, RATE_LIMITS_ENABLED=False)
    answers = [login(client, *credentials) for credentials in
               (("no-such-user", DEMO_PASSWORD), ("admin", "wrong"), ("operator5", DEMO_PASSWORD))]
    assert {answer.status_code for answer in answers} == {401}
    assert len({answer.get_data() for answer in answers}) == 1
    assert len({answer.headers.get("WWW-Authenticate") for answer in answers}) == 1


@pytest.mark.slow
def test_an_unknown_user_costs_as_much_time_as_a_wrong_password(database_url, db, make_client):
    """No user enumeration by timing: both paths verify one scrypt hash. Medians of interleaved tries, so
    the machine's load falls on both alike; the bounds (0.5..2) catch a missing hash (about 50x faster)."""
    use_method(PRODUCTION_METHOD)  # the cost under test: production's, for the dummy hash and these users
    try:
        with db.cursor() as cur:
            cur.execute("UPDATE users SET is_active = false WHERE username = 'operator5'")
            for username in ("admin", "operator5"):
                cur.execute("UPDATE users SET password_hash = %s WHERE username = %s",
                            (hash_password(DEMO_PASSWORD), username))
        medians = _login_medians(make_client(database_url, RATE_LIMITS_ENABLED=False))
    finally:
        use_method(TEST_METHOD)
    ratios = {kind: medians[kind] / medians["wrong password"] for kind in medians}
    print(f"\n[measured] login timing medians (ms): "
          f"{ {kind: round(value * 1000, 1) for kind, value in medians.items()} }, ratios {ratios}", flush=True)
    assert all(0.5 <= ratio <= 2.0 for ratio in ratios.values()), ratios


def _login_medians(client):
    """Return {kind of refused login: median seconds}, over ten interleaved tries after a warm-up."""
    kinds = {"unknown user": ("no-such-user", "guess"), "wrong password": ("admin", "guess"),
             "inactive user": ("operator5", DEMO_PASSWORD)}
    times = {kind: [] for kind in kinds}
    for attempt in range(11):
        for kind, credentials in kinds.items():
            started = time.perf_counter()
            assert login(client, *credentials).status_code == 401
            if attempt:  # one warm-up round
                times[kind].append(time.perf_counter() - started)
    return {kind: statistics.median(samples) for kind, samples in times.items()}
