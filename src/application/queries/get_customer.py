from pydantic import BaseModel, ConfigDict

from application.errors import CustomerNotFound, ReadModelBehind, VersionNotFound
from application.ports import AccessLog, Clock, CustomerCache, CustomerViewStore, EventStore
from application.queries.read_your_writes import ReadModelWait
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
        cache: CustomerCache,
        event_store: EventStore,
        wait: ReadModelWait,
        access_log: AccessLog,
        clock: Clock,
    ):
        self._views = views
        self._cache = cache
        self._event_store = event_store
        self._wait = wait
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: GetCustomer, reader: Reader) -> CustomerState:
        state = await self._find(query)
        await record_access(self._access_log, reader, query.business_id, [state.id], "read", self._clock.now())
        return state

    async def _find(self, query: GetCustomer) -> CustomerState:
        if query.min_version is None:
            view = await self._read(query.business_id, query.customer_id, min_version=1)
            if view is not None:
                return view
            # Not projected yet (a client following the Location of a POST): if the
            # customer exists, wait for it as `min_version=1` would; else it is a 404.
            if not await self._exists_in(query.business_id, query.customer_id):
                raise CustomerNotFound(query.customer_id)
            query = query.model_copy(update={"min_version": 1})
        min_version = query.min_version

        async def read_at_least() -> CustomerState | None:
            return await self._read(query.business_id, query.customer_id, min_version)

        view = await self._wait.until(read_at_least)
        if view is not None:
            return view
        return await self._explain_miss(query, await self._views.get(query.business_id, query.customer_id))

    async def _read(self, business_id: str, customer_id: str, min_version: int) -> CustomerState | None:
        """The cached view if it is recent enough, else the read model's (which warms the cache)."""
        cached = await self._cache.get(business_id, customer_id)
        if cached is not None and cached.version >= min_version:
            return cached
        view = await self._views.get(business_id, customer_id)
        if view is None:
            return None
        await self._cache.put_many([view])
        return view if view.version >= min_version else None

    async def _exists_in(self, business_id: str, customer_id: str) -> bool:
        first = await self._event_store.load_stream(customer_id, up_to_version=1)
        return bool(first) and first[0].metadata.business_id == business_id

    async def _explain_miss(self, query: GetCustomer, view: CustomerState | None) -> CustomerState:
        assert query.min_version is not None
        # Only admit that a customer exists if it belongs to the asking business.
        if view is None and not await self._exists_in(query.business_id, query.customer_id):
            raise CustomerNotFound(query.customer_id)
        stream_version = await self._event_store.stream_version(query.customer_id)
        if stream_version < query.min_version:
            raise VersionNotFound(query.customer_id, query.min_version, stream_version)
        raise ReadModelBehind(query.customer_id, query.min_version, view.version if view else 0)
