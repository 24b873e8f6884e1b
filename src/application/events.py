"""How the application sees stored events: a domain event plus its envelope."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent


class EventMetadata(BaseModel):
    """Who caused an event and which conversation it belongs to."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    actor: str
    correlation_id: str
    causation_id: str


class RecordedEvent(BaseModel):
    """An event as the event store holds it: at `version` in its stream, at `position` in all."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    stream_id: str
    version: int
    position: int
    recorded_at: datetime
    metadata: EventMetadata
    event: DomainEvent

    @property
    def event_type(self) -> str:
        return type(self.event).__name__
