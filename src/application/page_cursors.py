"""Opaque page cursors that cannot be forged: what a page continues from, signed.

A cursor is `base64url(JSON).base64url(HMAC-SHA256)`. The signature covers the cursor's
content and its *scope*: the tenant and the query that made it (filters, sort), so a
cursor that was tampered with, made up, or replayed on another query or another business
is refused (`InvalidCursor`, a 400) before anything is read. The content is whatever the
paging needs (a sort key, say), validated by its caller once the signature holds.
"""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from application.errors import InvalidCursor

_VERSION = 2


def query_scope(*parts: object) -> str:
    """A stable fingerprint of what a cursor is bound to."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


class PageCursors:
    def __init__(self, secret: str):
        self._secret = secret.encode()

    def encode(self, content: dict[str, Any], scope: str) -> str:
        body = json.dumps({"v": _VERSION, **content}, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._signature(body, scope))}"

    def decode(self, cursor: str, scope: str) -> dict[str, Any]:
        """The cursor's content; `InvalidCursor` unless this service made it for this scope."""
        body_text, _, signature_text = cursor.partition(".")
        try:
            body, signature = _unb64(body_text), _unb64(signature_text)
        except (binascii.Error, ValueError):
            raise InvalidCursor("the cursor is not one this service made") from None
        if not hmac.compare_digest(signature, self._signature(body, scope)):
            raise InvalidCursor("the cursor was not made by this service for this query; start again without it")
        content = json.loads(body)
        if not isinstance(content, dict) or content.pop("v", None) != _VERSION:
            raise InvalidCursor("the cursor is not one this service made")
        return content

    def _signature(self, body: bytes, scope: str) -> bytes:
        return hmac.new(self._secret, scope.encode() + b"\n" + body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """Only the one spelling `_b64` writes: the lenient decoder drops characters outside the
    alphabet and ignores a last character's spare bits, so `cursor + "!"` or a flipped last
    character would otherwise decode to the very bytes that were signed."""
    if not text:
        raise ValueError("empty")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical encoding")
    return data
