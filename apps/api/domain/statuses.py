"""Every status a job, a step or a machine can have, and the job priorities: one tuple each.

The database's CHECK constraints (migrations/0001) hold the same sets; tests/test_overdue_rule.py compares them.
"""
from typing import Literal, get_args

# Written as Literal types (a checker reads only literal values there), the tuples taken from them.
JobStatus = Literal["draft", "active", "in_progress", "on_hold", "completed", "cancelled"]
StepStatus = Literal["pending", "in_progress", "paused", "completed", "skipped"]
MachineStatus = Literal["active", "idle", "maintenance", "offline"]
Priority = Literal["low", "normal", "high", "urgent"]

JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
STEP_STATUSES: tuple[StepStatus, ...] = get_args(StepStatus)
MACHINE_STATUSES: tuple[MachineStatus, ...] = get_args(MachineStatus)
PRIORITIES: tuple[Priority, ...] = get_args(Priority)

Role = Literal["viewer", "operator", "manager", "admin"]  # weakest first
ROLES: tuple[Role, ...] = get_args(Role)

# How the page shows each status: (label, badge background, its text colour (>= 4.5:1), a non-colour mark).
# Hues from the Okabe-Ito set, which stays apart under deuteranopia and protanopia.
_LOOKS: dict[str, tuple[str, str, str, str]] = {
    "draft": ("draft", "#e6e6e6", "#1b2430", "○"), "active": ("active", "#0072b2", "#ffffff", "●"),
    "in_progress": ("in progress", "#e69f00", "#1b2430", "▶"), "on_hold": ("on hold", "#cc79a7", "#1b2430", "‖"),
    "completed": ("completed", "#009e73", "#1b2430", "✓"), "cancelled": ("cancelled", "#a04000", "#ffffff", "✕"),
    "pending": ("pending", "#e6e6e6", "#1b2430", "○"), "paused": ("paused", "#cc79a7", "#1b2430", "‖"),
    "skipped": ("skipped", "#5b6675", "#ffffff", "↷"),
}


def _looks(codes: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(("code", "label", "colour", "text", "mark"), (code, *_LOOKS[code]), strict=True))
            for code in codes]


def page_rules() -> dict[str, object]:
    """Return the statuses, transitions, roles and priorities the page shows (its one source of them)."""
    from .workflow import JOB_TRANSITIONS, STEP_TRANSITIONS  # workflow imports this module

    return {
        "job_statuses": _looks(JOB_STATUSES), "step_statuses": _looks(STEP_STATUSES),
        "job_transitions": {key: sorted(value) for key, value in JOB_TRANSITIONS.items()},
        "step_transitions": {key: sorted(value) for key, value in STEP_TRANSITIONS.items()},
        "roles": list(ROLES), "priorities": list(PRIORITIES),
    }
