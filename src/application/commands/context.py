from pydantic import BaseModel, ConfigDict

from application.events import EventMetadata
from domain.customer.notes import Note
from domain.customer.state import CustomerState


class CommandContext(BaseModel):
    """Who sends a command and in which conversation; it becomes the events' metadata."""

    model_config = ConfigDict(frozen=True)

    actor: str
    correlation_id: str
    causation_id: str
    traceparent: str | None = None
    # A client's Idempotency-Key and the hash of its request, when it sent one.
    idempotency_key: str | None = None
    request_hash: str | None = None

    def metadata_for(self, business_id: str) -> EventMetadata:
        return EventMetadata(
            business_id=business_id,
            actor=self.actor,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            traceparent=self.traceparent,
        )

    def idempotency_scope(self, business_id: str) -> str | None:
        """Keys are the client's: the same key from another user or business is another key."""
        if self.idempotency_key is None:
            return None
        return f"{business_id}:{self.actor}:{self.idempotency_key}"


class CommandResult(BaseModel):
    """The customer as of the command, and where its last event sits in the global log
    (None when the command changed nothing)."""

    model_config = ConfigDict(frozen=True)

    customer: CustomerState
    position: int | None
    note: Note | None = None
