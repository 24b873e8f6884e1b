"""Reads a message of the order or payment service, or says precisely why it can't.

The reason becomes the `x-crm-reason-code` header of the parked message:
`too_large`, `invalid_json`, `schema_mismatch`, `unknown_event_type`, `unknown_schema_version`.
"""

import json
from typing import Any

from pydantic import ValidationError

from application.integration.messages import INBOUND_MESSAGE_TYPES, SUPPORTED_SCHEMA_VERSIONS, Envelope, InboundMessage

MAX_BODY_BYTES = 256 * 1024


class UnreadableMessage(ValueError):
    def __init__(self, reason_code: str, detail: str):
        self.reason_code = reason_code
        super().__init__(f"{reason_code}: {detail}"[:1000])


def decode_inbound(body: bytes, traceparent: str | None = None) -> InboundMessage:
    if len(body) > MAX_BODY_BYTES:
        raise UnreadableMessage("too_large", f"{len(body)} bytes, more than {MAX_BODY_BYTES}")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableMessage("invalid_json", str(error)) from None
    try:
        envelope = Envelope[dict[str, Any]].model_validate(document)
    except ValidationError as error:
        raise UnreadableMessage("schema_mismatch", _summary(error)) from None
    message_type = INBOUND_MESSAGE_TYPES.get(envelope.event_type)
    if message_type is None:
        raise UnreadableMessage("unknown_event_type", repr(envelope.event_type)[:100])
    if envelope.schema_version not in SUPPORTED_SCHEMA_VERSIONS[envelope.event_type]:
        raise UnreadableMessage(
            "unknown_schema_version", f"{envelope.event_type} version {envelope.schema_version} is not supported"
        )
    try:
        return message_type.model_validate(document).sent_in_trace(traceparent)
    except ValidationError as error:
        raise UnreadableMessage("schema_mismatch", _summary(error)) from None


def _summary(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()[:10])
