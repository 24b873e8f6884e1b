"""Purchase metrics of a customer; fed by order and payment events (integration issue)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Spend(BaseModel):
    model_config = ConfigDict(frozen=True)

    total_minor: int = 0
    refunded_minor: int = 0
    average_minor: int = 0
    lifetime_value_minor: int = 0


class PurchaseMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    total_purchases: int = 0
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    is_repeat_customer: bool = False
    frequency_tier: str = "none"
    open_orders: int = 0
    # Per ISO 4217 currency; amounts of different currencies are never added up.
    spend: dict[str, Spend] = Field(default_factory=dict)
