"""Wait for something another thread, process or server does."""
import time


def eventually(predicate, timeout=5.0, step=0.02):
    """Poll `predicate` until it returns something true or `timeout` seconds passed; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def wait_for_lock_waiters(conn, count, timeout=10.0):
    """Wait until `count` sessions of this database wait on a lock (requests queued behind a held row lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()")
            if cur.fetchone()[0] >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"{count} requests never waited for the lock")
