"""The step's request model and response schema, shared by the steps and jobs views (neither imports the other)."""
from ..domain.workflow import STEP_STATUSES
from ..web.validation import Body, Id, Name

_TIME = {"type": ["string", "null"], "format": "date-time"}
STEP_SCHEMA = {
    "title": "Step", "type": "object",
    "required": ["id", "job_id", "step_order", "process_id", "name", "status", "assigned_to", "machine_id",
                 "worked_seconds", "paused_seconds", "pause_reason"],
    "properties": {
        "id": {"type": "integer"}, "job_id": {"type": "integer"}, "step_order": {"type": "integer"},
        "process_id": {"type": "integer"}, "name": {"type": "string"},
        "status": {"type": "string", "enum": list(STEP_STATUSES)},
        "assigned_to": {"type": ["integer", "null"]}, "machine_id": {"type": ["integer", "null"]},
        "started_at": _TIME, "completed_at": _TIME, "created_at": _TIME, "updated_at": _TIME,
        "worked_seconds": {"type": "integer", "description": (
            "Whole seconds of work (in_progress) on the step, the running segment included up to now; the "
            "database's clock")},
        "paused_seconds": {"type": "integer", "description": (
            "Whole seconds the step spent paused, the running pause included up to now")},
        "pause_reason": {"type": ["string", "null"], "description": "While paused: the pause reason's code"},
        "job_status": {"type": "string", "description": "The job's status after the change (PATCH only)."},
    },
}
class StepIn(Body):
    """A new step; without a name it takes its process's name."""

    process_id: Id
    name: Name | None = None
    assigned_to: Id | None = None
    machine_id: Id | None = None
