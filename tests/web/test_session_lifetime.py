"""A session ends at its absolute lifetime (SESSION_MAX_AGE from login), however often it is refreshed."""
import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.api.config import Config, ConfigError
from apps.api.web import sessions
from tests.support.auth import login

DAY = 24 * 3600


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_session_refreshed_every_day_still_ends_30_days_after_its_login(app, client, db):
    tokens = login(client).get_json()
    for _day in range(3):  # refreshed within every refresh lifetime: it would go on for ever
        tokens = client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"])).get_json()
        with db.cursor() as cur:
            cur.execute("UPDATE sessions SET created_at = created_at - interval '10 days 1 hour'")
    with app.app_context():
        sessions.forget_states()  # this worker's 1 s view of the session
    assert client.get("/api/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 401
    fresh = login(client).get_json()
    listed = client.get("/api/auth/sessions", headers=bearer(fresh["access_token"])).get_json()["items"]
    assert [item["current"] for item in listed] == [True]  # the old one is no longer listed as live


def test_refresh_tokens_never_outlive_the_session(new_app, database_url):
    client = new_app(database_url, SESSION_MAX_AGE=3600).test_client()
    logged_in = datetime.now(UTC)
    tokens = login(client).get_json()
    assert claims(tokens["refresh_token"])["exp"] <= (logged_in + timedelta(seconds=3601)).timestamp()
    refreshed = client.post("/api/auth/refresh", headers=bearer(tokens["refresh_token"])).get_json()
    assert claims(refreshed["refresh_token"])["exp"] <= (logged_in + timedelta(seconds=3601)).timestamp()
    assert client.get("/api/auth/me", headers=bearer(refreshed["access_token"])).status_code == 200


def test_the_default_lifetime_is_30_days_and_a_tiny_one_is_refused():
    assert Config().SESSION_MAX_AGE == 30 * DAY
    with pytest.raises(ConfigError, match="SESSION_MAX_AGE"):
        Config.from_env({"SESSION_MAX_AGE": "5"}).validate()
