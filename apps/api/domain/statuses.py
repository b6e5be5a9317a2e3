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
