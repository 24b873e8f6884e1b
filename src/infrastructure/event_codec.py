"""Turns recorded events into stored documents and RabbitMQ message bodies, and back."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from application.events import EventMetadata, RecordedEvent
from domain.customer.events import CUSTOMER_EVENT_TYPES, CustomerEvent
from domain.events import DomainEvent
from domain.integration.events import LINK_EVENT_TYPES
from domain.segment.events import SEGMENT_EVENT_TYPES
from infrastructure.crypto.personal_data import seal, unseal

# Every event the store holds, by class name: customers, segments, order and payment links.
STORED_EVENT_TYPES: dict[str, type[DomainEvent]] = {**CUSTOMER_EVENT_TYPES, **SEGMENT_EVENT_TYPES, **LINK_EVENT_TYPES}
assert len(STORED_EVENT_TYPES) == len(CUSTOMER_EVENT_TYPES) + len(SEGMENT_EVENT_TYPES) + len(LINK_EVENT_TYPES), (
    "event class names clash"
)

# The published ones (customers' and segments'; links are never published), by routing key.
EVENT_TYPES_BY_ROUTING_KEY: dict[str, type[DomainEvent]] = {
    event_type.routing_key: event_type for event_type in (*CUSTOMER_EVENT_TYPES.values(), *SEGMENT_EVENT_TYPES.values())
}


class UnknownEventType(ValueError):
    pass


def event_payload(event: DomainEvent) -> dict[str, Any]:
    return event.model_dump(mode="json")


def decode_event(event_type: str, payload: dict[str, Any], schema_version: int | None = None) -> DomainEvent:
    """The event in its current shape, whichever version `payload` was written in."""
    decoded_class = event_class(event_type)
    return decoded_class.model_validate(upcast(decoded_class, payload, schema_version))


def upcast(decoded_class: type, payload: dict[str, Any], schema_version: int | None) -> dict[str, Any]:
    """Applies the class's `upcast_v<n>_v<n+1>` methods from `schema_version` to its current one."""
    version = schema_version or decoded_class.schema_version
    if version > decoded_class.schema_version:
        raise ValueError(f"{decoded_class.__name__} schema_version {version} is newer than this code knows")
    for step in range(version, decoded_class.schema_version):
        payload = getattr(decoded_class, f"upcast_v{step}_v{step + 1}")(payload)
    return payload


def event_class(event_type: str) -> type[DomainEvent]:
    try:
        return STORED_EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def stored_payload(event: DomainEvent, key: bytes | None, stream_id: str) -> dict[str, Any]:
    """The payload as stored: personal fields sealed with the customer's key."""
    if not event.personal_data:
        return event_payload(event)
    if key is None:
        raise ValueError(f"{type(event).__name__} holds personal data: it needs the customer's key")
    return seal(event_payload(event), event.personal_data, key, stream_id)


def from_document(document: dict[str, Any], key: bytes | None) -> RecordedEvent:
    """Reads a stored event; without a key (erased customer) its personal fields are gone."""
    paths = event_class(document["event_type"]).personal_data
    payload = unseal(document["payload"], paths, key, document["stream_id"])
    return RecordedEvent(
        event_id=document["_id"],
        stream_id=document["stream_id"],
        version=document["version"],
        position=document["position"],
        recorded_at=document["recorded_at"],
        metadata=EventMetadata.model_validate(document["metadata"]),
        event=decode_event(document["event_type"], payload, document.get("schema_version", 1)),
    )


class _Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: str
    schema_version: int
    occurred_at: datetime
    business_id: str
    version: int = Field(ge=1)
    position: int = Field(ge=1)
    recorded_at: datetime
    metadata: EventMetadata
    data: dict[str, Any]


class PublishedEvent(_Envelope):
    """The body of a `customer.*` message on the `customers` exchange (docs/events.md)."""

    customer_id: str


class PublishedSegmentEvent(_Envelope):
    """The body of a `segment.*` message on the `customers` exchange."""

    segment_id: str


def _is_customers(event_type: type) -> bool:
    return issubclass(event_type, CustomerEvent)


def to_message_body(recorded: RecordedEvent) -> bytes:
    event = recorded.event
    envelope = {
        "event_id": recorded.event_id,
        "event_type": event.routing_key,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at,
        "business_id": recorded.metadata.business_id,
        "version": recorded.version,
        "position": recorded.position,
        "recorded_at": recorded.recorded_at,
        "metadata": recorded.metadata,
        "data": event_payload(event),
    }
    if _is_customers(type(event)):
        message: _Envelope = PublishedEvent(**envelope, customer_id=recorded.stream_id)
    else:
        message = PublishedSegmentEvent(**envelope, segment_id=recorded.stream_id)
    return message.model_dump_json().encode()


def from_message_body(body: bytes) -> RecordedEvent:
    """Raises ValueError (pydantic's ValidationError is one) for any body it cannot read."""
    event_type = _Envelope.model_validate_json(body).event_type
    event_class = EVENT_TYPES_BY_ROUTING_KEY.get(event_type)
    if event_class is None:
        raise UnknownEventType(event_type)
    message: PublishedEvent | PublishedSegmentEvent
    if _is_customers(event_class):
        message = PublishedEvent.model_validate_json(body)
        stream_id = message.customer_id
    else:
        segment_message = PublishedSegmentEvent.model_validate_json(body)
        message, stream_id = segment_message, segment_message.segment_id
    if message.metadata.business_id != message.business_id:
        raise ValueError("the event's business and its metadata's differ")
    return RecordedEvent(
        event_id=message.event_id,
        stream_id=stream_id,
        version=message.version,
        position=message.position,
        recorded_at=message.recorded_at,
        metadata=message.metadata,
        event=event_class.model_validate(upcast(event_class, message.data, message.schema_version)),
    )
