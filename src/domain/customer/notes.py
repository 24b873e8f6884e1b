from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

NOTE_MAX_LENGTH = 5000


class NoteType(StrEnum):
    PERSONAL = "personal"
    PREFERENCE = "preference"
    ISSUE = "issue"
    FEEDBACK = "feedback"


class Note(BaseModel):
    """A note as it was added. Notes are not part of the customer's state: each is its own
    event, and the read model keeps them outside the customer's document, numbered 1, 2, ...
    per customer they were added to, so a customer may hold any number of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: NoteType
    # None once the customer is erased.
    content: str | None = None
    author: str
    created_at: datetime
