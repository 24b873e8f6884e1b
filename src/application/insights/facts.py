"""What the business-at-a-glance counts of one customer: the one rule of the insights.

Counts cover active customers only. A customer adds 1 to `total`, to its type, segment and
frequency tier, to `repeat` if it is a repeat customer, to the day it was created, and its
lifetime value (and itself, as a spender) to each currency it spent in. The insights of a
business are the sums of these over its customers; the projection keeps them by adding a
customer's facts after each change and taking away its facts before.
"""

from collections import Counter

from domain.customer.profile import CustomerStatus
from domain.customer.state import CustomerState

PROJECTION_NAME = "insights"
# Bump when the facts, or the documents it writes, change: `crm projections status` then
# asks for a rebuild.
# 2: purchase histories outside the members (insights_purchases), one record per document.
PROJECTION_VERSION = 2


def insight_facts(state: CustomerState | None) -> Counter[str]:
    facts: Counter[str] = Counter()
    if state is None or state.status != CustomerStatus.ACTIVE:
        return facts
    metrics = state.metrics
    facts["total"] += 1
    facts[f"type.{state.type.value}"] += 1
    facts[f"segment.{state.segment.value}"] += 1
    facts[f"tier.{metrics.frequency_tier}"] += 1
    facts["repeat"] += int(metrics.is_repeat_customer)
    facts[f"created.{state.created_at.date().isoformat()}"] += 1
    for currency, spend in metrics.spend.items():
        facts[f"ltv.{currency}.total_minor"] += spend.lifetime_value_minor
        facts[f"ltv.{currency}.customers"] += 1
    return facts


def fact_changes(before: CustomerState | None, after: CustomerState) -> Counter[str]:
    changes = insight_facts(after)
    changes.subtract(insight_facts(before))
    return Counter({key: value for key, value in changes.items() if value})
