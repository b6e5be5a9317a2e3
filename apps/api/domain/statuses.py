"""Every status a job, a step or a machine can have, and the job priorities: one tuple each.

The database's CHECK constraints (migrations/0001) hold the same sets; tests/test_statuses.py compares them.
"""
from typing import Literal

JOB_STATUSES = ("draft", "active", "in_progress", "on_hold", "completed", "cancelled")
STEP_STATUSES = ("pending", "in_progress", "paused", "completed", "skipped")
MACHINE_STATUSES = ("active", "idle", "maintenance", "offline")
PRIORITIES = ("low", "normal", "high", "urgent")

JobStatus = Literal[JOB_STATUSES]
StepStatus = Literal[STEP_STATUSES]
MachineStatus = Literal[MACHINE_STATUSES]
Priority = Literal[PRIORITIES]
