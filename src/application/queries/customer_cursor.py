"""Opaque page cursors: the last sort key seen, bound to the query that made it.

A cursor carries the sort order and a fingerprint of the filters, so a cursor replayed on
another query is refused instead of silently skipping or repeating customers.
"""

import base64
import binascii
import hashlib
import json

from application.errors import InvalidCursor

_FORMAT = 1


def query_fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def encode_cursor(sort: str, after_key: str, fingerprint: str) -> str:
    body = json.dumps({"v": _FORMAT, "s": sort, "k": after_key, "f": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, fingerprint: str) -> str:
    """The sort key to continue after; `InvalidCursor` if it is not this query's cursor."""
    try:
        body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidCursor("the cursor is not one this service made") from None
    if not isinstance(body, dict) or body.get("v") != _FORMAT or not isinstance(body.get("k"), str):
        raise InvalidCursor("the cursor is not one this service made")
    if body.get("s") != sort or body.get("f") != fingerprint:
        raise InvalidCursor("the cursor belongs to another sort or other filters; start again without it")
    return body["k"]
