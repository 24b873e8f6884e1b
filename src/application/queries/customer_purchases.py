"""A customer's orders and payments, and its purchase metrics, from the read model.

Both live in the customer-details view (the aggregate's state), so that a merge moves
them with everything else and a rebuild of that one projection reproduces them."""

from pydantic import BaseModel, ConfigDict

from application.errors import CustomerNotFound
from application.ports import CustomerViewStore
from application.queries.reader import AuditedViews, Reader
from domain.customer.metrics import PurchaseMetrics
from domain.customer.purchases import PurchaseHistory


class GetPurchases(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str


class GetPurchasesHandler:
    def __init__(self, views: AuditedViews):
        self._views = views

    async def execute(self, query: GetPurchases, reader: Reader) -> PurchaseHistory:
        # A purchase history is personal data: its reads are logged like the profile's.
        view = await self._views.read(query.business_id, query.customer_id, reader, "read_purchases")
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
