"""The step's request model and response model, shared by the steps and jobs views (neither imports the other)."""
from datetime import datetime

from pydantic import BaseModel, Field

from ..domain.statuses import StepStatus
from ..web.validation import OMITTED, Body, Id, Name


class Step(BaseModel):
    """A step of a job as the API answers it."""

    id: int
    job_id: int
    step_order: int
    process_id: int
    name: str
    status: StepStatus
    assigned_to: int | None
    machine_id: int | None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    worked_seconds: int = Field(description=(
        "Whole seconds of work (in_progress) on the step, the running segment included up to now; the "
        "database's clock"))
    paused_seconds: int = Field(description="Whole seconds the step spent paused, the running pause included up to now")
    pause_reason: str | None = Field(description="While paused: the pause reason's code")
    job_status: str = Field(OMITTED, description="The job's status after the change (PATCH only).")


class StepIn(Body):
    """A new step; without a name it takes its process's name."""

    process_id: Id
    name: Name | None = None
    assigned_to: Id | None = None
    machine_id: Id | None = None
