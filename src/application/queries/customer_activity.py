"""Notes and history of one customer, newest first, paged by an opaque cursor."""

from pydantic import BaseModel, ConfigDict, Field

from application.errors import CustomerNotFound
from application.ports import AccessLog, Clock, CustomerHistory, CustomerViewStore, EventStore, HistoryEntry
from application.queries.history_changes import Changes, changes_by_version
from application.queries.reader import AuditedViews, Reader, record_access
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
    # Whether the reader may see the values (managers and admins): `from` and `to` per field.
    with_values: bool = False


class HistoryPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    entries: list[HistoryEntry]
    has_more: bool
    # Per entry version: `{field: {"from", "to"}}` with values, else `{field: {}}`.
    changes: dict[int, Changes] = {}


class ListHistoryHandler:
    def __init__(
        self,
        history: CustomerHistory,
        views: CustomerViewStore,
        event_store: EventStore,
        access_log: AccessLog,
        clock: Clock,
    ):
        self._history = history
        self._views = views
        self._event_store = event_store
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: ListHistory, reader: Reader) -> HistoryPage:
        entries = await self._history.page(query.business_id, query.customer_id, query.before_version, query.limit + 1)
        if (
            not entries
            and query.before_version is None
            and await self._views.get(query.business_id, query.customer_id) is None
        ):
            raise CustomerNotFound(query.customer_id)
        has_more = len(entries) > query.limit
        entries = entries[: query.limit]
        changes: dict[int, Changes] = {
            entry.version: {field: {} for field in entry.changed_fields} for entry in entries
        }
        if query.with_values and entries:
            # The whole stream: an erasure after the page must still clear the page's values.
            stream = await self._event_store.load_stream(query.business_id, query.customer_id)
            wanted = {entry.version: entry.changed_fields for entry in entries}
            changes.update(changes_by_version(query.customer_id, stream, wanted))
            # The values are personal data: reading them is logged like a read of the profile.
            await record_access(
                self._access_log, reader, query.business_id, [query.customer_id], "read_history", self._clock.now()
            )
        return HistoryPage(entries=entries, has_more=has_more, changes=changes)
