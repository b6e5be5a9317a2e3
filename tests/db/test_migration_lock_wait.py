"""The migration runner waits for another runner's advisory lock at most MIGRATION_LOCK_WAIT_S, then says why."""
import time

import psycopg2
import pytest

from apps.api.config import Config, ConfigError
from apps.api.db import migrate


def test_a_held_advisory_lock_ends_the_wait_with_a_clear_error(database_url):
    holder = psycopg2.connect(database_url)
    holder.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (migrate.ADVISORY_LOCK_KEY,))
            cur.execute("SELECT pg_backend_pid()")
            holder_pid = cur.fetchone()[0]
        started = time.monotonic()
        with pytest.raises(migrate.MigrationError) as caught:
            migrate.upgrade(database_url, log=lambda line: None, lock_wait_s=0.5)
        waited = time.monotonic() - started
    finally:
        holder.close()
    assert 0.5 <= waited < 5.0
    assert "MIGRATION_LOCK_WAIT_S" in str(caught.value) and str(holder_pid) in str(caught.value)
    # Once the holder is gone the same call goes through (nothing pending: the database is migrated).
    assert migrate.upgrade(database_url, log=lambda line: None, lock_wait_s=0.5) == []


def test_the_wait_is_read_from_the_environment_and_must_be_positive():
    assert Config.from_env({"MIGRATION_LOCK_WAIT_S": "7.5"}).MIGRATION_LOCK_WAIT_S == 7.5
    with pytest.raises(ConfigError, match="MIGRATION_LOCK_WAIT_S"):
        Config.from_env({"MIGRATION_LOCK_WAIT_S": "0"}).validate()
