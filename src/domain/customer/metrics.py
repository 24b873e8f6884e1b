"""Purchase metrics of a customer, computed from its purchase history by pure functions.

- A purchase is an order the customer was credited with (its booker, or its first
  attendee) that completed. The frequency tier and the repeat rule count them
  (`domain.customer.frequency`).
- `total_items` sums the purchases' `items_count` (open and cancelled orders are no purchases).
- Money is kept per ISO 4217 currency, in integer minor units; currencies are never added up.
- `average_minor` is `total_minor // purchases in that currency`: integer division,
  rounded down (amounts are never negative).
- `lifetime_value_minor` is `total_minor - refunded_minor`; refunds count for the payer.
"""

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.customer.frequency import FrequencyTier, frequency_tier, is_repeat_customer
from domain.customer.purchases import OrderStatus, PurchaseHistory


class Spend(BaseModel):
    model_config = ConfigDict(frozen=True)

    total_minor: int = 0
    refunded_minor: int = 0
    average_minor: int = 0
    lifetime_value_minor: int = 0


class PurchaseMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    total_purchases: int = 0
    total_items: int = Field(
        default=0, description="Items bought: `items_count` summed over completed purchases (cancelled excluded)."
    )
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    is_repeat_customer: bool = False
    # A FrequencyTier value.
    frequency_tier: str = FrequencyTier.NONE.value
    open_orders: int = 0
    # Per ISO 4217 currency; amounts of different currencies are never added up.
    spend: dict[str, Spend] = Field(default_factory=dict)


def purchase_metrics(history: PurchaseHistory) -> PurchaseMetrics:
    purchases = [order for order in history.orders if order.purchaser and order.status == OrderStatus.COMPLETED]
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    refunded: dict[str, int] = defaultdict(int)
    for order in purchases:
        totals[order.currency] += order.total_amount_minor
        counts[order.currency] += 1
    for payment in history.payments:
        for refund in payment.refunds:
            refunded[refund.currency] += refund.amount_minor
    spend = {
        currency: Spend(
            total_minor=totals[currency],
            refunded_minor=refunded[currency],
            average_minor=totals[currency] // counts[currency] if counts[currency] else 0,
            lifetime_value_minor=totals[currency] - refunded[currency],
        )
        for currency in sorted(set(totals) | set(refunded))
    }
    completed_at = [order.completed_at for order in purchases if order.completed_at is not None]
    return PurchaseMetrics(
        total_purchases=len(purchases),
        total_items=sum(order.items_count for order in purchases),
        first_purchase_at=min(completed_at, default=None),
        last_purchase_at=max(completed_at, default=None),
        is_repeat_customer=is_repeat_customer(len(purchases)),
        frequency_tier=frequency_tier(len(purchases)).value,
        open_orders=sum(order.status == OrderStatus.OPEN for order in history.orders),
        spend=spend,
    )
