from pydantic import BaseModel, ConfigDict

from application.events import EventMetadata
from domain.customer.aggregate import CustomerState


class CommandContext(BaseModel):
    """Who sends a command and in which conversation; it becomes the events' metadata."""

    model_config = ConfigDict(frozen=True)

    actor: str
    correlation_id: str
    causation_id: str

    def metadata_for(self, business_id: str) -> EventMetadata:
        return EventMetadata(
            business_id=business_id,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
        )


class CommandResult(BaseModel):
    """The customer as of the command, and where its last event sits in the global log."""

    model_config = ConfigDict(frozen=True)

    customer: CustomerState
    position: int
