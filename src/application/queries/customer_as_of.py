"""Time travel: a customer exactly as it was at a moment, rebuilt from its events.

The events up to the moment (by `occurred_at`) are folded through the aggregate, the same
`apply` the write side uses; none yet is a 404. Erased personal data stays erased in the
past: the erasure destroyed the customer's key, so its sealed fields read as absent, and
the state is also cleared of personal data whenever the stream holds the erasure, so that
no process still holding the key in memory (a few seconds) can show it.

Cost: one read of the customer's stream (by its index), whatever the moment.
"""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from application.errors import CustomerNotFound
from application.ports import AccessLog, Clock, EventStore
from application.queries.reader import Reader, record_access
from domain.customer.aggregate import Customer
from domain.customer.events import CustomerErased, CustomerEvent
from domain.customer.state import CustomerState, without_personal_data


class GetCustomerAsOf(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    as_of: AwareDatetime


class GetCustomerAsOfHandler:
    def __init__(self, event_store: EventStore, access_log: AccessLog, clock: Clock):
        self._event_store = event_store
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: GetCustomerAsOf, reader: Reader) -> CustomerState:
        # Only the asking business's stream: another's reads as no stream at all.
        stream = await self._event_store.load_stream(query.business_id, query.customer_id)
        events = [recorded.event for recorded in stream if isinstance(recorded.event, CustomerEvent)]
        if not stream or len(events) != len(stream):
            raise CustomerNotFound(query.customer_id)
        state = state_as_of(events, query.customer_id, query.as_of)
        if state is None or state.business_id != query.business_id:
            raise CustomerNotFound(query.customer_id)
        await record_access(self._access_log, reader, query.business_id, [state.id], "read_as_of", self._clock.now())
        return state


def state_as_of(events: list[CustomerEvent], customer_id: str, moment: datetime) -> CustomerState | None:
    """The state after the events that occurred up to `moment`; None if none had."""
    customer = Customer(customer_id)
    for event in events:
        if event.occurred_at > moment:
            break
        customer.apply(event)
    if customer.version == 0:
        return None
    if any(isinstance(event, CustomerErased) for event in events):
        return without_personal_data(customer.state)
    return customer.state
