"""The one background-loop class (apps/api/runtime/background.py), and that every loop of the app uses it."""
import ast
import logging
import threading
import time
from pathlib import Path

from apps.api.runtime.background import Background
from tests.support.source import syntax_tree
from tests.support.waiting import eventually

PACKAGE = Path(__file__).resolve().parents[2] / "apps" / "api"


def test_rounds_run_at_once_then_every_interval_until_stopped():
    rounds = []
    loop = Background("ticker", lambda: rounds.append(time.monotonic()), 0.05).start()
    assert eventually(lambda: len(rounds) >= 3, timeout=5)
    loop.stop(timeout=2)
    assert not loop.alive() and loop.stopping
    count = len(rounds)
    time.sleep(0.15)
    assert len(rounds) == count  # no round after stop


def test_a_failing_round_is_logged_and_the_loop_goes_on(caplog):
    rounds = []

    def fail_first():
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="apps.api.runtime.background"):
        loop = Background("flaky", fail_first, 0.01).start()
        assert eventually(lambda: len(rounds) >= 3, timeout=5)
        loop.stop()
    assert "flaky: a round failed" in caplog.text and "boom" in caplog.text


def test_a_round_chooses_its_pause_and_stop_wakes_a_blocked_round():
    woken = threading.Event()
    started = []

    def blocked():
        started.append(1)
        woken.wait(10)  # blocked on something else than the loop's own wait
        return 60.0     # a long backoff: stop() must not wait for it

    loop = Background("blocked", blocked, 0.01, wake=woken.set).start()
    assert eventually(lambda: started, timeout=5)
    began = time.monotonic()
    loop.stop(timeout=5)
    assert not loop.alive() and time.monotonic() - began < 2


def test_run_now_ends_the_pause_before_the_next_round():
    rounds = []
    loop = Background("idle", lambda: rounds.append(1), 60.0).start()  # one round, then a minute's pause
    try:
        assert eventually(lambda: len(rounds) == 1, timeout=5)
        loop.run_now()
        assert eventually(lambda: len(rounds) == 2, timeout=2)
        assert loop.alive() and not loop.stopping
    finally:
        loop.stop()


def thread_makers(package=PACKAGE):
    """Return the modules under `package` that create a threading.Thread themselves."""
    makers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(syntax_tree(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "Thread":
                makers.add(str(path.relative_to(package)))
    return sorted(makers)


def test_every_loop_of_the_app_is_a_background():
    assert thread_makers() == ["runtime/background.py"]
