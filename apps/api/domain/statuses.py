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

# How the page shows each status: (badge background, its text colour (>= 4.5:1 on it), a non-colour mark).
# Light tints with dark text, hues from the Okabe-Ito set so that they stay apart for the colour-blind.
_LOOKS = {
    "draft": ("#e6e9ee", "#1b2430", "✎"), "active": ("#d6eaf8", "#0b3d66", "●"),
    "in_progress": ("#0072b2", "#ffffff", "▶"), "on_hold": ("#f4ddec", "#6b2457", "‖"),
    "completed": ("#cdefe3", "#0b3d2e", "✓"), "cancelled": ("#f9d9c6", "#7a2a00", "✕"),
    "pending": ("#e6e9ee", "#1b2430", "○"), "paused": ("#fbe3b3", "#5a3a00", "‖"),
    "skipped": ("#ede4ec", "#5c2d52", "↷"),
    "low": ("#e6e9ee", "#1b2430", "▽"), "normal": ("#d6eaf8", "#0b3d66", "◇"),
    "high": ("#fbe3b3", "#5a3a00", "△"), "urgent": ("#f9d9c6", "#7a2a00", "▲"),
}


def _described(codes: tuple[str, ...]) -> list[dict[str, str]]:
    looks = {code: _LOOKS.get(code, ("#e6e9ee", "#1b2430", "•")) for code in codes}
    return [{"code": code, "label": code.replace("_", " ").capitalize(), "colour": looks[code][0],
             "text": looks[code][1], "mark": looks[code][2]} for code in codes]


# The words of the one-tap step moves the page offers, by the status they lead to. Moves that need more than a
# tap (a pause with its reason, a manager's reopen with a reason) are offered by the views that ask for it.
STEP_VERBS = {"in_progress": "Start", "completed": "Complete", "skipped": "Skip"}
RESUME = "Resume"  # in_progress from paused
CLOSED_STEP_STATUSES = ("completed", "skipped")


def page_rules() -> dict[str, object]:
    """Return the statuses, their looks, the legal moves, the roles and priorities the page reads."""
    from .workflow import CLOSED_JOB, JOB_TRANSITIONS, STEP_TRANSITIONS, WORKING_JOB  # it imports this module

    def ordered(transitions: dict[str, set[str]], codes: tuple[str, ...]) -> dict[str, list[str]]:
        return {start: [code for code in codes if code in transitions.get(start, set())] for start in codes}

    steps = ordered(STEP_TRANSITIONS, STEP_STATUSES)
    return {"job_statuses": _described(JOB_STATUSES), "step_statuses": _described(STEP_STATUSES),
            "job_transitions": ordered(JOB_TRANSITIONS, JOB_STATUSES), "step_transitions": steps,
            "step_moves": {start: [[end, RESUME if start == "paused" and end == "in_progress" else STEP_VERBS[end]]
                                   for end in targets if end in STEP_VERBS] for start, targets in steps.items()},
            "working_job_statuses": list(WORKING_JOB), "closed_job_statuses": list(CLOSED_JOB),
            "closed_step_statuses": list(CLOSED_STEP_STATUSES),
            "roles": list(ROLES), "priorities": _described(PRIORITIES)}
