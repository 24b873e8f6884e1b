"""Contact keys are stored as keyed hashes (HMAC-SHA256) of the normalized email or phone,
never in plaintext: the uniqueness guard and matching compare hashes."""

import hashlib
import hmac

from application.commits import ContactKey


class ContactKeyIds:
    def __init__(self, secret: str):
        self._secret = secret.encode()

    def id_of(self, key: ContactKey) -> str:
        return self.id_for(key.business_id, key.kind, key.value)

    def id_for(self, business_id: str, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{business_id}|{kind}|{digest}"
