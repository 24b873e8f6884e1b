"""`GET /insights`: the business at a glance, from the insights read model."""

from abc import ABC, abstractmethod
from collections import Counter
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from application.insights.facts import PROJECTION_NAME
from application.ports import Checkpoints, Clock
from application.queries.read_your_writes import PositionWait
from domain.customer.frequency import FrequencyTier
from domain.customer.profile import CustomerSegment, CustomerType


class InsightCounts(ABC):
    """The insights read model: a business's facts, summed."""

    @abstractmethod
    async def totals(self, business_id: str) -> Counter[str]: ...


class CustomerCounts(BaseModel):
    total: int
    by_type: dict[str, int]
    by_segment: dict[str, int]
    by_frequency_tier: dict[str, int]


class NewCustomers(BaseModel):
    last_7_days: int
    last_30_days: int


class LifetimeValue(BaseModel):
    total_minor: int
    average_minor: int


class Insights(BaseModel):
    model_config = ConfigDict(frozen=True)

    customers: CustomerCounts
    repeat_rate: float
    new_customers: NewCustomers
    lifetime_value: dict[str, LifetimeValue]
    as_of_position: int


class GetInsightsHandler:
    def __init__(self, counts: InsightCounts, checkpoints: Checkpoints, positions: PositionWait, clock: Clock):
        self._counts = counts
        self._checkpoints = checkpoints
        self._positions = positions
        self._clock = clock

    async def execute(self, business_id: str, min_position: int | None = None) -> Insights:
        if min_position is not None:
            await self._positions.until_reached(PROJECTION_NAME, business_id, min_position)
        # The position first: the counts read next hold at least everything up to it.
        position = await self._checkpoints.reached(PROJECTION_NAME, business_id)
        facts = await self._counts.totals(business_id)
        today = self._clock.now().date()
        total = facts["total"]
        currencies = sorted({key.split(".")[1] for key in facts if key.startswith("ltv.")})
        return Insights(
            customers=CustomerCounts(
                total=total,
                by_type={kind.value: facts[f"type.{kind.value}"] for kind in CustomerType},
                by_segment={segment.value: facts[f"segment.{segment.value}"] for segment in CustomerSegment},
                by_frequency_tier={tier.value: facts[f"tier.{tier.value}"] for tier in FrequencyTier},
            ),
            repeat_rate=round(facts["repeat"] / total, 4) if total else 0.0,
            new_customers=NewCustomers(
                last_7_days=_created_since(facts, today, 7), last_30_days=_created_since(facts, today, 30)
            ),
            lifetime_value={
                currency: LifetimeValue(
                    total_minor=facts[f"ltv.{currency}.total_minor"],
                    average_minor=(
                        facts[f"ltv.{currency}.total_minor"] // facts[f"ltv.{currency}.customers"]
                        if facts[f"ltv.{currency}.customers"]
                        else 0
                    ),
                )
                for currency in currencies
            },
            as_of_position=position,
        )


def _created_since(facts: Counter[str], today: date, days: int) -> int:
    """Customers created in the last `days` days, today included."""
    return sum(facts[f"created.{(today - timedelta(days=back)).isoformat()}"] for back in range(days))
