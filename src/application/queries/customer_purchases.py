"""A customer's orders and payments, and its purchase metrics, from the read model.

Both live in the customer-details view (the aggregate's state), so that a merge moves
them with everything else and a rebuild of that one projection reproduces them."""

from pydantic import BaseModel, ConfigDict

from application.errors import CustomerNotFound
from application.ports import AccessLog, Clock, CustomerViewStore
from application.queries.reader import Reader, record_access
from domain.customer.metrics import PurchaseMetrics
from domain.customer.purchases import PurchaseHistory


class GetPurchases(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str


class GetPurchasesHandler:
    def __init__(self, views: CustomerViewStore, access_log: AccessLog, clock: Clock):
        self._views = views
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: GetPurchases, reader: Reader) -> PurchaseHistory:
        view = await self._views.get(query.business_id, query.customer_id)
        if view is None:
            raise CustomerNotFound(query.customer_id)
        # A purchase history is personal data: its reads are logged like the profile's.
        await record_access(self._access_log, reader, query.business_id, [view.id], "read_purchases", self._clock.now())
        return view.purchases


class GetMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str


class GetMetricsHandler:
    def __init__(self, views: CustomerViewStore):
        self._views = views

    async def execute(self, query: GetMetrics) -> PurchaseMetrics:
        view = await self._views.get(query.business_id, query.customer_id)
        if view is None:
            raise CustomerNotFound(query.customer_id)
        return view.metrics
