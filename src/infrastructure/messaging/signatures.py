"""Signatures of the messages the relay publishes for the projections.

Anyone who may publish to the `customers` exchange could otherwise write any tenant's
read model: projectors apply a message only if it carries the relay's HMAC-SHA256 of
its kind and body (`x-crm-signature`), made with `CRM_MESSAGE_SIGNING_KEY`, which only
the relay and the projectors hold. A message without a valid signature is parked.
"""

import hashlib
import hmac


class BadSignature(ValueError):
    reason_code = "bad_signature"


class MessageSigner:
    def __init__(self, key: str):
        self._key = key.encode()

    def sign(self, kind: str, body: bytes) -> str:
        return hmac.new(self._key, kind.encode() + b"\n" + body, hashlib.sha256).hexdigest()

    def verify(self, kind: str, body: bytes, signature: object) -> None:
        if not isinstance(signature, str) or not hmac.compare_digest(self.sign(kind, body), signature):
            raise BadSignature("the message is not signed by this service's relay")
