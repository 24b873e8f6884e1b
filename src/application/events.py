"""How the application sees stored events: a domain event plus its envelope."""

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent

EventT = TypeVar("EventT", bound=DomainEvent)


class EventMetadata(BaseModel):
    """Who caused an event and which conversation it belongs to."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    actor: str
    correlation_id: str
    causation_id: str
    # The W3C trace context of the request that caused the event, when it was traced: the
    # relay and the projections continue that trace.
    traceparent: str | None = None


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

    def event_as(self, kind: type[EventT]) -> EventT:
        """The event, checked to be of the kind its stream holds (a customer's stream holds
        customer events): a stream with another kind in it is corrupt, not a case to handle."""
        if not isinstance(self.event, kind):
            raise TypeError(
                f"{self.stream_id} at version {self.version} holds a {self.event_type}, not a {kind.__name__}"
            )
        return self.event


class Watermark(BaseModel):
    """The relay's word to a projection partition: each business's log is published up to
    the given position, so everything of it up to there meant for this partition is in
    front of this message."""

    model_config = ConfigDict(frozen=True)

    published: dict[str, int]


# What a projection partition consumes: events, and watermarks between them.
ProjectionMessage = RecordedEvent | Watermark
