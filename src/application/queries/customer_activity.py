"""Notes and history of one customer, newest first, paged by an opaque cursor."""

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from application.errors import CustomerNotFound, InvalidCursor
from application.page_cursors import PageCursors, query_scope
from application.ports import (
    AccessLog,
    Clock,
    CustomerHistory,
    CustomerNotes,
    CustomerViewStore,
    EventStore,
    HistoryEntry,
)
from application.queries.history_changes import Changes, changes_by_version
from application.queries.reader import AuditedViews, Reader, record_access
from application.queries.stored_times import utc
from domain.customer.notes import Note


class ListNotes(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    cursor: str | None = None
    limit: int = Field(default=20, ge=1, le=100)

    def scope(self) -> str:
        return query_scope("notes", self.business_id, self.customer_id)


class NotesPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    notes: list[Note]
    next_cursor: str | None


class _NotesLeft(BaseModel):
    """Where a page stopped: per customer whose notes are shown, the highest number left."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    left: dict[str, int]


class ListNotesHandler:
    """A customer's notes and those of the customers merged into it, newest first.

    Each of those customers numbers its own notes 1, 2, ... in the order they were added,
    which is also their time order; the view says how many each has. A page reads, for each
    of them, the `limit` highest numbers not shown yet (one read of known `_id`s, so the
    server examines at most `limit` notes per customer, whatever their count), and shows
    the newest `limit` of those. The cursor (signed, bound to the customer) keeps the
    highest number left of each."""

    def __init__(self, views: AuditedViews, notes: CustomerNotes, cursors: PageCursors):
        self._views = views
        self._notes = notes
        self._cursors = cursors

    async def execute(self, query: ListNotes, reader: Reader) -> NotesPage:
        # Checked before anything is read: a forged cursor learns nothing.
        left = self._left_of(query) if query.cursor else None
        view = await self._views.read(query.business_id, query.customer_id, reader, "read_notes")
        if left is None:
            left = {owner: count for owner, count in view.note_counts.items() if count > 0}
        ranges = {owner: (max(1, last - query.limit + 1), last) for owner, last in left.items() if last > 0}
        found = await self._notes.numbered(query.business_id, ranges) if ranges else []
        newest_first = sorted(found, key=lambda numbered: (utc(numbered.note.created_at), numbered.note.id))
        page = newest_first[::-1][: query.limit]
        for numbered in page:
            left[numbered.customer_id] = min(left[numbered.customer_id], numbered.number - 1)
        # A range that held fewer notes than its numbers (none is ever skipped, but a note
        # of an old merge may be counted without being there) is passed over, not read again.
        for owner, (first, _) in ranges.items():
            if not any(numbered.customer_id == owner for numbered in found):
                left[owner] = first - 1
        left = {owner: last for owner, last in left.items() if last > 0}
        next_cursor = self._cursors.encode(_NotesLeft(left=left).model_dump(), query.scope()) if left else None
        return NotesPage(notes=[numbered.note for numbered in page], next_cursor=next_cursor)

    def _left_of(self, query: ListNotes) -> dict[str, int]:
        assert query.cursor is not None
        try:
            return dict(_NotesLeft.model_validate(self._cursors.decode(query.cursor, query.scope())).left)
        except ValidationError:
            raise InvalidCursor("the cursor is not one this service made") from None


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
