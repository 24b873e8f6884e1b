"""The segments of a business, one with its count, and a segment's customers."""

from pydantic import BaseModel, ConfigDict, Field

from application.errors import SegmentNotFound
from application.ports import EventStore
from application.queries.list_customers import CustomerPage, ListCustomers, ListCustomersHandler
from application.queries.read_your_writes import ReadModelWait
from application.queries.reader import Reader
from application.segments.define_segment import MAX_SEGMENTS_PER_BUSINESS
from application.segments.ports import SegmentReadModel, SegmentView
from application.segments.segment_filter import filter_from_json
from domain.segment.events import SegmentDefined


class SegmentWithCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: SegmentView
    count: int


class SegmentCustomers(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    segment_id: str
    sort: str
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None
    min_position: int | None = None


class SegmentLookup:
    """A segment from the read model; one just defined (its stream exists) is waited for, as
    a client following the `Location` of its POST expects to find it."""

    def __init__(self, segments: SegmentReadModel, event_store: EventStore, wait: ReadModelWait):
        self._segments = segments
        self._event_store = event_store
        self._wait = wait

    async def found(self, business_id: str, segment_id: str) -> SegmentView:
        segment = await self._segments.get(business_id, segment_id)
        if segment is not None:
            return segment
        recorded = await self._event_store.load_stream(business_id, segment_id, up_to_version=2)
        if len(recorded) != 1 or not isinstance(recorded[0].event, SegmentDefined):
            raise SegmentNotFound(segment_id)  # never defined here, or deleted since

        async def projected() -> SegmentView | None:
            return await self._segments.get(business_id, segment_id)

        segment = await self._wait.until(projected)
        if segment is None:
            raise SegmentNotFound(segment_id)
        return segment


class ListSegmentsHandler:
    def __init__(self, segments: SegmentReadModel):
        self._segments = segments

    async def execute(self, business_id: str) -> list[SegmentView]:
        return await self._segments.list(business_id, MAX_SEGMENTS_PER_BUSINESS)


class GetSegmentHandler:
    def __init__(self, segments: SegmentReadModel, lookup: SegmentLookup):
        self._segments = segments
        self._lookup = lookup

    async def execute(self, business_id: str, segment_id: str) -> SegmentWithCount:
        segment = await self._lookup.found(business_id, segment_id)
        return SegmentWithCount(segment=segment, count=await self._segments.count(business_id, segment_id))


class ListSegmentCustomersHandler:
    def __init__(self, lookup: SegmentLookup, customers: ListCustomersHandler):
        self._lookup = lookup
        self._customers = customers

    async def execute(self, query: SegmentCustomers, reader: Reader) -> CustomerPage:
        segment = await self._lookup.found(query.business_id, query.segment_id)
        filter_ = filter_from_json(segment.filter)
        if segment.counted:
            # Every customer has been checked: its members carry it as a facet, an index key.
            filter_ = filter_.model_copy(update={"segment_id": segment.id})
        listing = ListCustomers(
            business_id=query.business_id,
            filter=filter_,
            sort=query.sort,
            limit=query.limit,
            cursor=query.cursor,
            min_position=query.min_position,
        )
        return await self._customers.execute(listing, reader)
