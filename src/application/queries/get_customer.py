from pydantic import BaseModel, ConfigDict

from application.errors import CustomerNotFound, ReadModelBehind, VersionNotFound
from application.ports import AccessLog, Clock, CustomerCache, CustomerViewStore, EventStore
from application.queries.read_your_writes import ReadModelWait
from application.queries.reader import Reader, record_access
from domain.customer.state import CustomerState


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
        state = await self.projected(query.business_id, query.customer_id, query.min_version)
        await record_access(self._access_log, reader, query.business_id, [state.id], "read", self._clock.now())
        return state

    async def projected(self, business_id: str, customer_id: str, min_version: int | None = None) -> CustomerState:
        """The customer's view, at `min_version` or later; not logged (the caller decides
        whether it read personal data)."""
        # Without `min_version`, a customer not projected yet (a client following the
        # Location of a POST) is waited for as `min_version=1` would.
        at_least = min_version or 1
        view = await self._read(business_id, customer_id, at_least)
        if view is not None:
            return view
        await self._refuse_unreachable(business_id, customer_id, at_least)

        async def read_at_least() -> CustomerState | None:
            return await self._read(business_id, customer_id, at_least)

        view = await self._wait.until(read_at_least)
        if view is not None:
            return view
        behind = await self._views.get(business_id, customer_id)
        raise ReadModelBehind(customer_id, at_least, behind.version if behind else 0)

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

    async def _refuse_unreachable(self, business_id: str, customer_id: str, min_version: int) -> None:
        """Before any wait: a customer the business doesn't have is a 404, and a version its
        stream hasn't reached is a 422 at once (the event store is the truth; the read model
        only follows it), so no request waits for what can't come."""
        # The store is queried by business: another tenant's customer has version 0 here.
        stream_version = await self._event_store.stream_version(business_id, customer_id)
        if stream_version == 0:
            raise CustomerNotFound(customer_id)
        if stream_version < min_version:
            raise VersionNotFound(customer_id, min_version, stream_version)
