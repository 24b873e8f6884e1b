"""How often a customer buys: the frequency tier and the repeat-customer rule.

Both count completed purchases (`domain.customer.metrics` says what a purchase is). The
contract's tiers: 0 `none`, 1 `one_time`, 2-3 `occasional`, 4-9 `regular`, 10+
`frequent`; a repeat customer has 2 or more. The metrics store both, and the lists
filter on what the metrics store, so this module is the only place that decides them.
"""

from enum import StrEnum


class FrequencyTier(StrEnum):
    NONE = "none"
    ONE_TIME = "one_time"
    OCCASIONAL = "occasional"
    REGULAR = "regular"
    FREQUENT = "frequent"


REPEAT_CUSTOMER_PURCHASES = 2


def frequency_tier(completed_purchases: int) -> FrequencyTier:
    if completed_purchases >= 10:
        return FrequencyTier.FREQUENT
    if completed_purchases >= 4:
        return FrequencyTier.REGULAR
    if completed_purchases >= 2:
        return FrequencyTier.OCCASIONAL
    if completed_purchases == 1:
        return FrequencyTier.ONE_TIME
    return FrequencyTier.NONE


def is_repeat_customer(completed_purchases: int) -> bool:
    return completed_purchases >= REPEAT_CUSTOMER_PURCHASES
