from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext
from application.commits import Commit, ContactKey, StreamChanges
from application.errors import SegmentNotFound
from application.ports import Clock, EventStore
from application.search_text import fold
from application.segments.define_segment import NAME_KEY_KIND
from domain.segment.events import SegmentEvent
from domain.segment.segment import Segment


class DeleteSegment(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    segment_id: str


class DeleteSegmentHandler:
    def __init__(self, event_store: EventStore, clock: Clock):
        self._event_store = event_store
        self._clock = clock

    async def execute(self, command: DeleteSegment, context: CommandContext) -> None:
        recorded = await self._event_store.load_stream(command.business_id, command.segment_id)
        if not recorded or not all(isinstance(event.event, SegmentEvent) for event in recorded):
            raise SegmentNotFound(command.segment_id)
        segment = Segment.from_history(command.segment_id, [event.event for event in recorded])  # type: ignore[misc]
        if segment.deleted:
            raise SegmentNotFound(command.segment_id)
        segment.delete(self._clock.now())
        # Its name is free again.
        name_key = ContactKey(
            business_id=command.business_id, kind=NAME_KEY_KIND, value=fold(segment.name), customer_id=segment.id
        )
        await self._event_store.append(
            Commit(business_id=command.business_id, streams=(StreamChanges.of(segment),), releases=(name_key,)),
            context.metadata_for(command.business_id),
        )
