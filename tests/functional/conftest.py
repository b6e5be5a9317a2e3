"""Fixtures the browser modules share (their helpers live in tests/support/)."""
import pytest

from tests.support.browser import chromium


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium at desk width for the whole module (a module may override it)."""
    with chromium() as driver:
        yield driver
