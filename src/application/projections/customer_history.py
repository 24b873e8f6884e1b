"""The audit trail read model: one entry per event, who did what and when, and which
fields changed (names only, never values, so that erasing a customer's data leaves the
trail free of it). Entries are keyed by event id, which makes applying one twice a no-op;
order does not matter, because readers sort by version."""

from collections.abc import Sequence

from application.events import RecordedEvent
from application.ports import CustomerHistory, HistoryEntry

PROJECTION_NAME = "customer_history"
# Bump when a change here changes the entries written: `status` then asks for a rebuild.
PROJECTION_VERSION = 1


def history_entry(recorded: RecordedEvent) -> HistoryEntry:
    return HistoryEntry(
        event_id=recorded.event_id,
        customer_id=recorded.stream_id,
        business_id=recorded.metadata.business_id,
        version=recorded.version,
        event_type=recorded.event.routing_key,
        actor=recorded.metadata.actor,
        occurred_at=recorded.event.occurred_at,
        changed_fields=recorded.event.changed_fields(),
        correlation_id=recorded.metadata.correlation_id,
    )


class ProjectCustomerHistory:
    def __init__(self, history: CustomerHistory):
        self._history = history

    async def execute(self, batch: Sequence[RecordedEvent]) -> int:
        if not batch:
            return 0
        await self._history.add_many([history_entry(recorded) for recorded in batch])
        return len(batch)
