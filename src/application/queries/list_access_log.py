"""`GET /access-log` (admin): who read or exported whose personal data, newest first,
filtered by customer, actor and time, paged with a signed cursor bound to the business and
the filters (`application.page_cursors`).

A page may hold fewer than `limit` entries and still have a `next_cursor`: the store reads
a bounded amount per page (`MongoAccessLog.page`); `next_cursor` is null once nothing older
can match."""

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from application.errors import InvalidCursor
from application.page_cursors import PageCursors, query_scope
from application.ports import AccessLog, AccessLogQuery, AccessRecord, Clock
from application.queries.stored_times import utc

# Entries other processes stamped with clocks a little ahead are still found.
CLOCK_MARGIN = timedelta(minutes=5)


class ListAccessLog(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str | None = None
    actor: str | None = None
    after: AwareDatetime | None = None
    before: AwareDatetime | None = None
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = None

    def scope(self) -> str:
        return query_scope("access_log", self.business_id, self.customer_id, self.actor, self.after, self.before)


class LoggedAccess(AccessRecord):
    id: str


class AccessLogPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[LoggedAccess]
    next_cursor: str | None


class _StoppedAt(BaseModel):
    """Where the next page starts: older than (at, id), or than `at` with no id; and the
    width of the time window the store read last (`window`, seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime
    id: str | None
    window: float = Field(ge=0)


class ListAccessLogHandler:
    def __init__(self, access_log: AccessLog, cursors: PageCursors, clock: Clock):
        self._access_log = access_log
        self._cursors = cursors
        self._clock = clock

    async def execute(self, query: ListAccessLog) -> AccessLogPage:
        stopped = self._stopped_at(query) if query.cursor else None
        page = await self._access_log.page(
            AccessLogQuery(
                business_id=query.business_id,
                customer_id=query.customer_id,
                actor=query.actor,
                after=query.after,
                before=query.before,
                stopped_at=(stopped.at, stopped.id) if stopped else None,
                limit=query.limit,
                now=self._clock.now() + CLOCK_MARGIN,
                window_seconds=stopped.window if stopped else 1.0,
            )
        )
        items = [LoggedAccess(id=entry_id, **record.model_dump()) for entry_id, record in page.entries]
        next_cursor = None
        if page.resume is not None:
            at, entry_id = page.resume
            stopped_at = _StoppedAt(at=utc(at), id=entry_id, window=page.window_seconds)
            next_cursor = self._cursors.encode(stopped_at.model_dump(mode="json"), query.scope())
        return AccessLogPage(items=items, next_cursor=next_cursor)

    def _stopped_at(self, query: ListAccessLog) -> _StoppedAt:
        assert query.cursor is not None
        content = self._cursors.decode(query.cursor, query.scope())
        try:
            return _StoppedAt.model_validate(content)
        except ValidationError:
            raise InvalidCursor("the cursor is not one this service made") from None
