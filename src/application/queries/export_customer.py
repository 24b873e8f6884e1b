"""GDPR data portability: everything held about one customer, as one JSON document."""

from typing import Any

from pydantic import BaseModel, ConfigDict

from application.commands.customer_changes import CustomerChanges
from application.events import RecordedEvent
from application.ports import AccessLog, Clock, CustomerHistory, EventStore
from application.queries.reader import Reader, record_access
from domain.customer.events import NoteAdded
from domain.customer.notes import Note


class ExportCustomer(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str


class ExportCustomerHandler:
    def __init__(
        self,
        changes: CustomerChanges,
        event_store: EventStore,
        history: CustomerHistory,
        access_log: AccessLog,
        clock: Clock,
    ):
        self._changes = changes
        self._event_store = event_store
        self._history = history
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: ExportCustomer, reader: Reader) -> dict[str, Any]:
        # From the event store, not a read model: an export must be complete and exact.
        customer = await self._changes.load(query.business_id, query.customer_id, purchases=True)
        now = self._clock.now()
        await record_access(self._access_log, reader, query.business_id, [customer.id], "export", now)
        state = customer.state
        events = await self._event_store.load_stream(query.business_id, customer.id)
        notes = _notes_in(events)
        # The notes of the customers merged into this one are in their own streams.
        for owner in state.note_counts:
            if owner != customer.id:
                notes.extend(_notes_in(await self._event_store.load_stream(query.business_id, owner)))
        notes.sort(key=lambda note: note.id)
        return {
            "exported_at": now.isoformat(),
            "customer": state.model_dump(
                mode="json", exclude={"note_counts", "consent_log", "history_owners", "purchase_records"}
            ),
            "notes": [note.model_dump(mode="json") for note in notes],
            "consents_log": [entry.model_dump(mode="json") for entry in state.consent_log],
            "purchases": state.metrics.model_dump(mode="json"),
            "history": [
                {
                    "version": recorded.version,
                    "event_type": recorded.event.routing_key,
                    "occurred_at": recorded.event.occurred_at.isoformat(),
                    "recorded_at": recorded.recorded_at.isoformat(),
                    "actor": recorded.metadata.actor,
                    "data": recorded.event.model_dump(mode="json", exclude={"occurred_at"}),
                }
                for recorded in events
            ],
            "access_log": [
                record.model_dump(mode="json")
                for record in await self._access_log.about(query.business_id, customer.id, limit=10_000)
            ],
        }


def _notes_in(events: list[RecordedEvent]) -> list[Note]:
    return [recorded.event.note for recorded in events if isinstance(recorded.event, NoteAdded)]
