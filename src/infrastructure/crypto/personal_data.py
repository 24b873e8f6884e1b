"""Seals and unseals the personal fields of an event payload with the customer's data key.

A sealed value is `{"$sealed": "<base64 nonce+ciphertext>"}` holding the JSON of the
original value, bound (as associated data) to the customer and the field path. Unsealing
without the key (the customer was erased: the key is destroyed) drops the field, so the
event reads as if it never carried that data.
"""

import base64
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "$sealed"
NONCE_BYTES = 12


def seal(payload: dict[str, Any], paths: Iterable[str], key: bytes, customer_id: str) -> dict[str, Any]:
    cipher = AESGCM(key)

    def sealed(value: Any, path: str) -> Any:
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(value, separators=(",", ":")).encode()
        ciphertext = cipher.encrypt(nonce, plaintext, f"{customer_id}|{path}".encode())
        return {SEALED: base64.b64encode(nonce + ciphertext).decode()}

    return _transform(payload, paths, sealed)


def unseal(payload: dict[str, Any], paths: Iterable[str], key: bytes | None, customer_id: str) -> dict[str, Any]:
    cipher = AESGCM(key) if key is not None else None

    def opened(value: Any, path: str) -> Any:
        if not (isinstance(value, dict) and SEALED in value):
            return value  # written before encryption, or not personal after all
        if cipher is None:
            return _DROP
        blob = base64.b64decode(value[SEALED])
        plaintext = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], f"{customer_id}|{path}".encode())
        return json.loads(plaintext)

    return _transform(payload, paths, opened)


class _Drop:
    pass


_DROP = _Drop()


def _transform(payload: dict[str, Any], paths: Iterable[str], change: Callable[[Any, str], Any]) -> dict[str, Any]:
    """A copy of `payload` with `change` applied at each path that is present (and not None)."""
    result = json.loads(json.dumps(payload))  # a deep copy of plain JSON
    for path in paths:
        _apply(result, path.split("."), path, change)
    return result


def _apply(node: Any, parts: list[str], path: str, change: Callable[[Any, str], Any]) -> None:
    head, rest = parts[0], parts[1:]
    into_list = head.endswith("[]")
    name = head.removesuffix("[]")
    if not isinstance(node, dict) or node.get(name) is None:
        return
    if into_list:
        for item in node[name]:
            if rest:
                _apply(item, rest, path, change)
        return
    if rest:
        _apply(node[name], rest, path, change)
        return
    changed = change(node[name], path)
    if isinstance(changed, _Drop):
        del node[name]
    else:
        node[name] = changed
