"""Notes and history of one customer, newest first, paged by an opaque cursor."""

from pydantic import BaseModel, ConfigDict, Field

from application.errors import CustomerNotFound
from application.ports import CustomerHistory, CustomerViewStore, HistoryEntry
from application.queries.reader import AuditedViews, Reader
from domain.customer.notes import Note


class ListNotes(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    # The id of the last note of the previous page.
    after_note_id: str | None = None
    limit: int = Field(default=20, ge=1, le=100)


class NotesPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    notes: list[Note]
    has_more: bool


class ListNotesHandler:
    def __init__(self, views: AuditedViews):
        self._views = views

    async def execute(self, query: ListNotes, reader: Reader) -> NotesPage:
        view = await self._views.read(query.business_id, query.customer_id, reader, "read_notes")
        # Note ids are ULIDs: they sort by creation time.
        newest_first = sorted(view.notes, key=lambda note: note.id, reverse=True)
        if query.after_note_id is not None:
            newest_first = [note for note in newest_first if note.id < query.after_note_id]
        return NotesPage(notes=newest_first[: query.limit], has_more=len(newest_first) > query.limit)


class ListHistory(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    before_version: int | None = None
    limit: int = Field(default=20, ge=1, le=100)


class HistoryPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    entries: list[HistoryEntry]
    has_more: bool


class ListHistoryHandler:
    def __init__(self, history: CustomerHistory, views: CustomerViewStore):
        self._history = history
        self._views = views

    async def execute(self, query: ListHistory) -> HistoryPage:
        entries = await self._history.page(query.business_id, query.customer_id, query.before_version, query.limit + 1)
        if not entries and query.before_version is None and await self._views.get(query.business_id, query.customer_id) is None:
            raise CustomerNotFound(query.customer_id)
        return HistoryPage(entries=entries[: query.limit], has_more=len(entries) > query.limit)
