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
    """A copy of `payload` with `change` applied at each path that is present (and not None).

    Only the containers on the paths are copied; the rest is shared with `payload`, which is
    never changed (a deep copy of every event cost a rebuild a sixth of its time)."""
    result = dict(payload)
    for path in paths:
        _apply(result, path.split("."), path, change)
    return result


def _apply(node: dict[str, Any], parts: list[str], path: str, change: Callable[[Any, str], Any]) -> None:
    """Applies `change` at `parts` below `node`, a copy of its own: what it descends into is
    copied first."""
    head, rest = parts[0], parts[1:]
    into_list = head.endswith("[]")
    name = head.removesuffix("[]")
    if node.get(name) is None:
        return
    if into_list:
        if not isinstance(node[name], list):
            return
        items = node[name] = list(node[name])
        if rest:
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    items[index] = dict(item)
                    _apply(items[index], rest, path, change)
        return
    if rest:
        if isinstance(node[name], dict):
            node[name] = dict(node[name])
            _apply(node[name], rest, path, change)
        return
    changed = change(node[name], path)
    if isinstance(changed, _Drop):
        del node[name]
    else:
        node[name] = changed
