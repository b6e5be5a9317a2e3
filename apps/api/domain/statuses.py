"""Every status a job, a step or a machine can have, the job priorities and the roles: each defined once here.

The database's CHECK constraints (migrations/0001) hold the same sets; tests/domain/test_overdue_rule.py compares them.
Each status also has its words and its badge (netbox's `choices.py`): a label, a background from the Okabe-Ito
set (hues that stay apart under deuteranopia and protanopia), a text colour with at least 4.5:1 contrast on it
and a mark, so that a status never rests on colour alone. `page_rules()` serves all of it to the page, which
restates none of it (tests/domain/test_page_rules.py holds both to that).
"""
from typing import Literal, NamedTuple, TypedDict, get_args

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
CLOSED_STEP_STATUSES: tuple[StepStatus, ...] = ("completed", "skipped")  # takes no more work or assignment


class Look(NamedTuple):
    """How one status reads on the page: its word, badge background, badge text colour and mark."""

    label: str
    colour: str
    text: str
    mark: str


INK, WHITE, BLACK = "#1B2430", "#FFFFFF", "#000000"
GREY, SLATE = "#E4E7EB", "#52606D"
# Okabe-Ito: blue, orange, bluish green, vermillion, reddish purple, sky blue. Mid tones carry black text
# (white on orange is 2.1:1), the dark ones white.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"

JOB_LOOKS = {
    "draft": Look("Draft", GREY, INK, "○"),
    "active": Look("Active", BLUE, WHITE, "●"),
    "in_progress": Look("In progress", ORANGE, BLACK, "▶"),
    "on_hold": Look("On hold", PURPLE, BLACK, "‖"),
    "completed": Look("Completed", GREEN, BLACK, "✓"),
    "cancelled": Look("Cancelled", VERMILLION, BLACK, "✕"),
}
# Paused: a step stopped with a reason (issue 26), shown like a job on hold.
STEP_LOOKS = {
    "pending": Look("Pending", GREY, INK, "○"),
    "in_progress": Look("In progress", ORANGE, BLACK, "▶"),
    "paused": Look("Paused", PURPLE, BLACK, "‖"),
    "completed": Look("Completed", GREEN, BLACK, "✓"),
    "skipped": Look("Skipped", SLATE, WHITE, "↷"),
}
MACHINE_LOOKS = {
    "active": Look("Active", GREEN, BLACK, "▶"),
    "idle": Look("Idle", GREY, INK, "○"),
    "maintenance": Look("Maintenance", ORANGE, BLACK, "⚙"),
    "offline": Look("Offline", SLATE, WHITE, "✕"),
}
PRIORITY_LOOKS = {
    "low": Look("Low", GREY, INK, "↓"),
    "normal": Look("Normal", SKY, BLACK, "•"),
    "high": Look("High", ORANGE, BLACK, "↑"),
    "urgent": Look("Urgent", VERMILLION, BLACK, "‼"),
}


# The words of the one-tap step moves the page offers, by the status they lead to. Moves that need more than a
# tap (a pause with its reason, a manager's reopen with a reason) are offered by the views that ask for it.
STEP_VERBS = {"in_progress": "Start", "completed": "Complete", "skipped": "Skip"}
RESUME = "Resume"  # in_progress from paused


class Badge(TypedDict):
    """One status as the page reads it."""

    code: str
    label: str
    colour: str
    text: str
    mark: str


def badges(codes: tuple[str, ...], looks: dict[str, Look]) -> list[Badge]:
    """Return the page's description of each code, in the order given."""
    return [Badge(code=code, label=looks[code].label, colour=looks[code].colour, text=looks[code].text,
                  mark=looks[code].mark) for code in codes]


def page_rules() -> dict[str, object]:
    """Return every rule the page needs (statuses, their looks, transitions, roles, priorities) as JSON data."""
    from .workflow import CLOSED_JOB, JOB_TRANSITIONS, STEP_TRANSITIONS, WORKING_JOB  # it imports this module

    def ordered(transitions: dict[str, set[str]], codes: tuple[str, ...]) -> dict[str, list[str]]:
        return {start: [code for code in codes if code in transitions.get(start, set())] for start in codes}

    return {
        "job_statuses": badges(JOB_STATUSES, JOB_LOOKS),
        "step_statuses": badges(STEP_STATUSES, STEP_LOOKS),
        "machine_statuses": badges(MACHINE_STATUSES, MACHINE_LOOKS),
        "priority_badges": badges(PRIORITIES, PRIORITY_LOOKS),
        "job_transitions": ordered(JOB_TRANSITIONS, JOB_STATUSES),
        "step_transitions": ordered(STEP_TRANSITIONS, STEP_STATUSES),
        "step_moves": {start: [[end, RESUME if start == "paused" and end == "in_progress" else STEP_VERBS[end]]
                               for end in targets if end in STEP_VERBS]
                       for start, targets in ordered(STEP_TRANSITIONS, STEP_STATUSES).items()},
        "working_job_statuses": list(WORKING_JOB),
        "closed_job_statuses": list(CLOSED_JOB),
        "closed_step_statuses": list(CLOSED_STEP_STATUSES),
        "roles": list(ROLES),
        "priorities": list(PRIORITIES),
    }
