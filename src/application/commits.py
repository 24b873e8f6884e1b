"""What one command or inbound message writes, atomically: events of one or more
streams, the contact keys it claims or releases, and (for a request with an
Idempotency-Key) its outcome, or (for a message of another service) its id."""

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent


class StreamChanges(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    expected_version: int
    events: tuple[DomainEvent, ...]
    # The aggregate's state after the events, stored with them (a snapshot that is never
    # behind its stream), for aggregates that are loaded from one (customers).
    snapshot: BaseModel | None = None

    @classmethod
    def of(cls, aggregate: "Aggregate", snapshot: BaseModel | None = None) -> "StreamChanges":
        """The events an aggregate triggered since it was loaded, at the version it was loaded at."""
        return cls(
            stream_id=aggregate.id,
            expected_version=aggregate.version - len(aggregate.pending_events),
            events=tuple(aggregate.pending_events),
            snapshot=snapshot,
        )


class Aggregate(Protocol):
    id: str
    version: int

    @property
    def pending_events(self) -> list[Any]: ...


class ContactKey(BaseModel):
    """An email (case-folded) or a phone (E.164) that one active customer of a business holds."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    kind: str
    value: str
    customer_id: str


class IdempotencyRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    customer_ids: tuple[str, ...] = ()
    request_hash: str
    outcome: dict[str, Any]


class StoredOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_hash: str
    outcome: dict[str, Any]
    position: int | None


class Commit(BaseModel):
    """Everything in one commit belongs to one business: its log orders the commit's events."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    streams: tuple[StreamChanges, ...]
    # Released before claimed, so a key can move from one customer to another (a merge).
    releases: tuple[ContactKey, ...] = ()
    claims: tuple[ContactKey, ...] = ()
    idempotency: IdempotencyRecord | None = None
    # Customers erased by this commit: their data key is destroyed in the same transaction,
    # and so is every plaintext copy the command side keeps (snapshots, stored outcomes).
    erasures: tuple[str, ...] = ()
    # The `event_id` of an inbound message: committed with its effects, so that a
    # redelivery finds it and changes nothing.
    processed_message_id: str | None = None
