"""What one command writes, atomically: events of one or more streams, the contact keys
it claims or releases, and (for a request with an Idempotency-Key) its outcome."""

from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.customer.events import CustomerEvent


class StreamChanges(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    expected_version: int
    events: tuple[CustomerEvent, ...]


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
    model_config = ConfigDict(frozen=True)

    streams: tuple[StreamChanges, ...]
    # Released before claimed, so a key can move from one customer to another (a merge).
    releases: tuple[ContactKey, ...] = ()
    claims: tuple[ContactKey, ...] = ()
    idempotency: IdempotencyRecord | None = None
    # Customers erased by this commit: their data key is destroyed in the same transaction,
    # and so is every plaintext copy the command side keeps (snapshots, stored outcomes).
    erasures: tuple[str, ...] = ()
