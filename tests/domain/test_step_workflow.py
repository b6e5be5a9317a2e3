"""The step workflow's rules (apps/api/domain/workflow.py) with paused and reopen, without a database."""
import pytest

from apps.api.domain.errors import ApiError
from apps.api.domain.statuses import STEP_STATUSES
from apps.api.domain.workflow import STEP_TRANSITIONS, check_step_transition


def test_every_step_status_has_its_transitions():
    assert "paused" in STEP_STATUSES and set(STEP_TRANSITIONS) == set(STEP_STATUSES)
    assert all(targets <= set(STEP_STATUSES) for targets in STEP_TRANSITIONS.values())


@pytest.mark.parametrize("old, new, job, allowed", [
    ("in_progress", "paused", "in_progress", True), ("paused", "in_progress", "in_progress", True),
    ("pending", "paused", "in_progress", False), ("paused", "completed", "in_progress", False),
    ("paused", "paused", "in_progress", False), ("completed", "pending", "completed", True),
    ("skipped", "pending", "on_hold", True), ("completed", "pending", "cancelled", False),
    ("in_progress", "pending", "in_progress", False), ("in_progress", "paused", "on_hold", False),
])
def test_transitions(old, new, job, allowed):
    def check():
        check_step_transition({"status": job}, {"status": old}, new)
    if allowed:
        check()
    else:
        with pytest.raises(ApiError) as refused:
            check()
        assert refused.value.status == 409
