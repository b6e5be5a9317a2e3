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
