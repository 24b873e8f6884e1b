from typing import Any

from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext
from application.commits import Commit, ContactKey, StreamChanges
from application.errors import ContactAlreadyTaken, SegmentNameTaken, TooManySegments
from application.ports import Clock, EventStore, IdGenerator
from application.search_text import fold
from application.segments.ports import SegmentReadModel, SegmentView
from application.segments.segment_filter import filter_from_json, filter_to_json
from domain.segment.segment import Segment

# Each customer change is checked against every segment of its business.
MAX_SEGMENTS_PER_BUSINESS = 100
# A segment's name is unique in its business, through the same guard as emails and phones.
NAME_KEY_KIND = "segment_name"


class DefineSegment(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    name: str
    filter: dict[str, Any]


class DefineSegmentHandler:
    def __init__(self, event_store: EventStore, segments: SegmentReadModel, ids: IdGenerator, clock: Clock):
        self._event_store = event_store
        self._segments = segments
        self._ids = ids
        self._clock = clock

    async def execute(self, command: DefineSegment, context: CommandContext) -> SegmentView:
        filter_ = filter_from_json(command.filter, strict=True)
        existing = await self._segments.list(command.business_id, MAX_SEGMENTS_PER_BUSINESS)
        if len(existing) >= MAX_SEGMENTS_PER_BUSINESS:
            raise TooManySegments(MAX_SEGMENTS_PER_BUSINESS)
        segment = Segment.define(
            segment_id=self._ids.new_segment_id(),
            business_id=command.business_id,
            name=command.name,
            filter=filter_to_json(filter_),
            now=self._clock.now(),
        )
        name_key = ContactKey(
            business_id=command.business_id, kind=NAME_KEY_KIND, value=fold(segment.name), customer_id=segment.id
        )
        try:
            await self._event_store.append(
                Commit(business_id=command.business_id, streams=(StreamChanges.of(segment),), claims=(name_key,)),
                context.metadata_for(command.business_id),
            )
        except ContactAlreadyTaken as taken:
            raise SegmentNameTaken(segment.name, taken.existing_customer_id) from None
        assert segment.created_at is not None
        return SegmentView(
            id=segment.id,
            business_id=command.business_id,
            name=segment.name,
            filter=segment.filter,
            created_at=segment.created_at,
        )
