"""Master keys wrap the customers' data keys (envelope encryption).

`CRM_MASTER_KEYS` lists every master key still needed to unwrap, as `id:base64` pairs
separated by commas; `CRM_ACTIVE_MASTER_KEY` names the one new data keys are wrapped
with. Rotation: add a key, make it active, run `crm keys rotate` (it re-wraps every data
key), then drop the old one from the list.
"""

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class UnknownMasterKey(LookupError):
    pass


class MasterKeys:
    def __init__(self, keys: str, active: str):
        self._keys: dict[str, AESGCM] = {}
        for pair in keys.split(","):
            key_id, _, encoded = pair.strip().partition(":")
            key = base64.b64decode(encoded)
            if len(key) != 32:
                raise ValueError(f"master key {key_id!r} must be 32 bytes (AES-256), base64-encoded")
            self._keys[key_id] = AESGCM(key)
        if active not in self._keys:
            raise ValueError(f"the active master key {active!r} is not in CRM_MASTER_KEYS")
        self.active_id = active

    def wrap(self, data_key: bytes, customer_id: str) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        # The customer id is bound in: a wrapped key copied to another customer won't open.
        return self.active_id, nonce + self._keys[self.active_id].encrypt(nonce, data_key, customer_id.encode())

    def unwrap(self, key_id: str, wrapped: bytes, customer_id: str) -> bytes:
        try:
            master = self._keys[key_id]
        except KeyError:
            raise UnknownMasterKey(key_id) from None
        return master.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], customer_id.encode())
