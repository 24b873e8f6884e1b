from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

NOTE_MAX_LENGTH = 5000
# Notes live in the aggregate (a merge moves them); the cap keeps a customer loadable.
NOTES_MAX_COUNT = 1000


class NoteType(StrEnum):
    PERSONAL = "personal"
    PREFERENCE = "preference"
    ISSUE = "issue"
    FEEDBACK = "feedback"


class Note(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: NoteType
    # None once the customer is erased.
    content: str | None = None
    author: str
    created_at: datetime
