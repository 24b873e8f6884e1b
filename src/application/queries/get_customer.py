import asyncio
import time

from pydantic import BaseModel, ConfigDict

from application.errors import CustomerNotFound, ReadModelBehind, VersionNotFound
from application.ports import AccessLog, Clock, CustomerViewStore, EventStore
from application.queries.reader import Reader, record_access
from domain.customer.aggregate import CustomerState


class GetCustomer(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    # Read-your-writes: wait until the read model has applied this version.
    min_version: int | None = None


class GetCustomerHandler:
    def __init__(
        self,
        views: CustomerViewStore,
        event_store: EventStore,
        access_log: AccessLog,
        clock: Clock,
        max_wait_seconds: float,
        poll_seconds: float,
    ):
        self._views = views
        self._access_log = access_log
        self._clock = clock
        self._event_store = event_store
        self._max_wait = max_wait_seconds
        self._poll = poll_seconds

    async def execute(self, query: GetCustomer, reader: Reader) -> CustomerState:
        state = await self._read(query)
        await record_access(self._access_log, reader, query.business_id, [state.id], "read", self._clock.now())
        return state

    async def _read(self, query: GetCustomer) -> CustomerState:
        deadline = time.monotonic() + self._max_wait
        while True:
            view = await self._views.get(query.business_id, query.customer_id)
            if query.min_version is None:
                if view is None:
                    raise CustomerNotFound(query.customer_id)
                return view
            if view is not None and view.version >= query.min_version:
                return view
            if time.monotonic() >= deadline:
                return await self._explain_miss(query, view)
            await asyncio.sleep(self._poll)

    async def _explain_miss(self, query: GetCustomer, view: CustomerState | None) -> CustomerState:
        assert query.min_version is not None
        if view is None:
            # Only admit that a customer exists if it belongs to the asking business.
            first = await self._event_store.load_stream(query.customer_id, up_to_version=1)
            if not first or first[0].metadata.business_id != query.business_id:
                raise CustomerNotFound(query.customer_id)
        stream_version = await self._event_store.stream_version(query.customer_id)
        if stream_version < query.min_version:
            raise VersionNotFound(query.customer_id, query.min_version, stream_version)
        raise ReadModelBehind(query.customer_id, query.min_version, view.version if view else 0)
