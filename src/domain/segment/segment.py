"""The Segment aggregate: a named, saved filter of a business's customers.

Its name is unique in its business (the application claims it like an email); its filter
is what the application's customer filter accepts. A deleted segment stays deleted.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from domain.errors import FieldError, InvalidCustomerData, SegmentGone
from domain.segment.events import SegmentDefined, SegmentDeleted, SegmentEvent

NAME_MAX_LENGTH = 100


def normalized_name(name: str) -> str:
    """The name as stored: trimmed, inner whitespace collapsed; 1 to NAME_MAX_LENGTH characters."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidCustomerData([FieldError("name", f"must have 1 to {NAME_MAX_LENGTH} characters")])
    return cleaned


class Segment:
    def __init__(self, segment_id: str):
        self.id = segment_id
        self.version = 0
        self.pending_events: list[SegmentEvent] = []
        self.business_id: str | None = None
        self.name = ""
        self.filter: dict[str, Any] = {}
        self.created_at: datetime | None = None
        self.deleted = False

    # public commands

    @classmethod
    def define(
        cls, *, segment_id: str, business_id: str, name: str, filter: Mapping[str, Any], now: datetime
    ) -> "Segment":
        segment = cls(segment_id)
        segment._trigger(
            SegmentDefined(occurred_at=now, business_id=business_id, name=normalized_name(name), filter=dict(filter))
        )
        return segment

    def delete(self, now: datetime) -> None:
        if self.deleted:
            raise SegmentGone(self.id)
        self._trigger(SegmentDeleted(occurred_at=now))

    # replay

    @classmethod
    def from_history(cls, segment_id: str, events: Iterable[SegmentEvent]) -> "Segment":
        segment = cls(segment_id)
        for event in events:
            segment.apply(event)
        return segment

    def apply(self, event: SegmentEvent) -> None:
        self.version += 1
        match event:
            case SegmentDefined():
                self.business_id, self.name, self.filter = event.business_id, event.name, dict(event.filter)
                self.created_at = event.occurred_at
            case SegmentDeleted():
                self.deleted = True

    def _trigger(self, event: SegmentEvent) -> None:
        self.apply(event)
        self.pending_events.append(event)
