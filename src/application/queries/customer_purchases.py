"""A customer's orders and payments, and its purchase metrics, from the read model.

The metrics live in the customer-details view; the orders and payments outside it, one
record each (`CustomerPurchases`), so a customer may hold any number and the view stays
small. A merge moves them with everything else, and a rebuild of that one projection
reproduces them.

Purchases are paged newest first: a page holds up to `limit` orders (by `placed_at`, then
`order_id`), with their payments. A payment of no order of the customer (a payer only) goes
on the page whose time window holds its `at`, so each payment shows once. The cursor is
signed (`application.page_cursors`) and bound to the business and the customer.

Cost: one read of the customer's view (by `_id`, for the 404 and the access log), one range
of its orders, the payments of those orders, and the payer-only payments of the page's
window: at most four reads, whatever the history's size.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from application.errors import InvalidCursor
from application.page_cursors import PageCursors, query_scope
from application.ports import CustomerPurchases
from application.queries.get_customer import GetCustomerHandler
from application.queries.reader import AuditedViews, Reader
from application.queries.stored_times import utc
from domain.customer.metrics import PurchaseMetrics
from domain.customer.purchases import OrderRecord, PaymentRecord


class GetPurchases(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None

    def scope(self) -> str:
        return query_scope("purchases", self.business_id, self.customer_id)


class PurchasesPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    orders: list[OrderRecord]
    payments: list[PaymentRecord]
    next_cursor: str | None


class _OrderKey(BaseModel):
    """Where a page stopped: the last order it held."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    placed_at: datetime
    order_id: str


class GetPurchasesHandler:
    def __init__(self, views: AuditedViews, purchases: CustomerPurchases, cursors: PageCursors):
        self._views = views
        self._purchases = purchases
        self._cursors = cursors

    async def execute(self, query: GetPurchases, reader: Reader) -> PurchasesPage:
        # Checked before anything is read: a forged cursor learns nothing.
        before = self._key_of(query) if query.cursor else None
        # A purchase history is personal data: its reads are logged like the profile's.
        await self._views.read(query.business_id, query.customer_id, reader, "read_purchases")
        newest_first = await self._purchases.orders(
            query.business_id,
            query.customer_id,
            (before.placed_at, before.order_id) if before is not None else None,
            query.limit + 1,
        )
        orders, more = newest_first[: query.limit], len(newest_first) > query.limit
        # The time window this page covers: from its oldest order (or the beginning, on the
        # last page) up to where the previous page stopped (or now, on the first).
        since = utc(orders[-1].placed_at) if more else None
        until = utc(before.placed_at) if before is not None else None
        payments = await self._purchases.payments(
            query.business_id, query.customer_id, [order.order_id for order in orders], since, until
        )
        payments.sort(key=lambda payment: (utc(payment.at), payment.payment_id), reverse=True)
        next_cursor = (
            self._cursors.encode(
                _OrderKey(placed_at=orders[-1].placed_at, order_id=orders[-1].order_id).model_dump(mode="json"),
                query.scope(),
            )
            if more
            else None
        )
        return PurchasesPage(orders=orders, payments=payments, next_cursor=next_cursor)

    def _key_of(self, query: GetPurchases) -> _OrderKey:
        assert query.cursor is not None
        content = self._cursors.decode(query.cursor, query.scope())
        try:
            return _OrderKey.model_validate(content)
        except ValidationError:
            raise InvalidCursor("the cursor is not one this service made") from None


class GetMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str


class GetMetricsHandler:
    def __init__(self, customers: GetCustomerHandler):
        self._customers = customers

    async def execute(self, query: GetMetrics) -> PurchaseMetrics:
        # As GET /customers/{id}: a customer just registered is waited for, not a 404.
        view = await self._customers.projected(query.business_id, query.customer_id)
        return view.metrics
