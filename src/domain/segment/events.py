"""The events of a segment: a saved filter of a business's customers, for campaigns."""

from typing import Any, ClassVar

from domain.events import DomainEvent


class SegmentEvent(DomainEvent):
    """Base of every segment event."""


class SegmentDefined(SegmentEvent):
    routing_key: ClassVar[str] = "segment.defined"

    business_id: str
    name: str
    # The list parameters it keeps, as JSON (validated by the application's filter).
    filter: dict[str, Any]

    def changed_fields(self) -> tuple[str, ...]:
        return ("name", "filter")


class SegmentDeleted(SegmentEvent):
    routing_key: ClassVar[str] = "segment.deleted"

    def changed_fields(self) -> tuple[str, ...]:
        return ("status",)


SEGMENT_EVENT_TYPES: dict[str, type[SegmentEvent]] = {
    event_type.__name__: event_type for event_type in (SegmentDefined, SegmentDeleted)
}
