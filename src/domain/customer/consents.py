"""Consents are a log: each grant or withdrawal is kept, the current value is the latest entry."""

import re
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.errors import FieldError, InvalidCustomerData

PURPOSE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# The purposes every client may rely on (contract v1.1); any other matching the pattern is accepted.
KNOWN_PURPOSES = ("marketing_email", "marketing_sms", "offers", "loyalty")


def checked_purpose(purpose: str) -> str:
    """The purpose, or InvalidCustomerData unless it matches `PURPOSE_PATTERN`."""
    if not PURPOSE_PATTERN.match(purpose):
        raise InvalidCustomerData(
            [FieldError("purpose", f"a purpose matches {PURPOSE_PATTERN.pattern}, e.g. {', '.join(KNOWN_PURPOSES)}")]
        )
    return purpose


class ConsentEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: str
    granted: bool
    at: datetime
    source: str | None = Field(default=None, max_length=100)
    # GDPR article 6 basis, e.g. "consent", "contract", "legitimate_interest".
    legal_basis: str | None = Field(default=None, max_length=50)


def current_consents(log: Iterable[ConsentEntry]) -> dict[str, ConsentEntry]:
    current: dict[str, ConsentEntry] = {}
    for entry in log:
        current[entry.purpose] = entry
    return current
