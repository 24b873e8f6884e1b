"""The fields the list and search queries look customers up by, derived from the state.

`derive_query_fields` is the one place that turns a customer's state into lookup keys and
sort keys, so that they stay right as the state grows: the projection stores its result
next to the state, and the list query builds its lookups from the same helpers.

- `lookup_keys`: one indexed array holding the search-word prefixes (`q:ana`) and the
  filter facets (`type:new`, `tag:vip`, `repeat:true`...). A query pins the index on its
  most selective key and checks the others on the documents it fetched.
- `sort_keys`: per sort order, one string that orders like the sort and ends with the
  customer id, so that it is unique: a cursor is just the last key seen.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from application.search_text import prefixes, words_of_email, words_of_phone, words_of_text, fold
from domain.customer.aggregate import CustomerState

# Below every character a folded name holds, so "ana" sorts before "anabela".
SORT_KEY_SEPARATOR = "\x01"
_NUMBER_WIDTH = 20


class SortField(StrEnum):
    CREATED_AT = "created_at"
    LAST_NAME = "last_name"
    LAST_PURCHASE_AT = "last_purchase_at"
    TOTAL_SPENT = "total_spent"


class FrequencyTier(StrEnum):
    NONE = "none"
    ONE_TIME = "one_time"
    OCCASIONAL = "occasional"
    REGULAR = "regular"
    FREQUENT = "frequent"


def frequency_tier(completed_purchases: int) -> FrequencyTier:
    """The contract's tiers: 0 none, 1 one_time, 2-3 occasional, 4-9 regular, 10+ frequent."""
    if completed_purchases >= 10:
        return FrequencyTier.FREQUENT
    if completed_purchases >= 4:
        return FrequencyTier.REGULAR
    if completed_purchases >= 2:
        return FrequencyTier.OCCASIONAL
    if completed_purchases == 1:
        return FrequencyTier.ONE_TIME
    return FrequencyTier.NONE


@dataclass(frozen=True)
class PurchaseSummary:
    """What the list needs from a customer's purchases."""

    completed_purchases: int = 0
    last_purchase_at: datetime | None = None
    # Lifetime value in minor units, in the currency the customer spent most in.
    total_spent_minor: int = 0

    @property
    def is_repeat_customer(self) -> bool:
        return self.completed_purchases >= 2


def purchase_summary_of(state: CustomerState) -> PurchaseSummary:
    # The state holds no purchases until the integration issue (7) feeds them; it then
    # fills this in from the state's metrics, and every key below follows.
    return PurchaseSummary()


@dataclass(frozen=True)
class CustomerQueryFields:
    lookup_keys: list[str]
    # The whole folded words, to check terms longer than the stored prefixes.
    search_words: list[str]
    sort_keys: dict[SortField, str]


def search_key(term_prefix: str) -> str:
    return f"q:{term_prefix}"


def facet_key(facet: str, value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"{facet}:{value}"


def number_sort_key(value: int, customer_id: str) -> str:
    return f"{value:0{_NUMBER_WIDTH}d}{SORT_KEY_SEPARATOR}{customer_id}"


def text_sort_key(value: str, customer_id: str) -> str:
    return f"{value}{SORT_KEY_SEPARATOR}{customer_id}"


def epoch_microseconds(moment: datetime | None) -> int:
    # Never purchased counts as the epoch: first in ascending order, last in descending.
    return int(moment.timestamp() * 1_000_000) if moment else 0


def derive_query_fields(state: CustomerState) -> CustomerQueryFields:
    purchases = purchase_summary_of(state)
    words = list(
        dict.fromkeys(
            [
                *words_of_text(state.first_name),
                *words_of_text(state.last_name),
                *words_of_email(state.email),
                *words_of_phone(state.phone),
            ]
        )
    )
    facets = [
        facet_key("type", state.type.value),
        facet_key("segment", state.segment.value),
        facet_key("repeat", purchases.is_repeat_customer),
        facet_key("tier", frequency_tier(purchases.completed_purchases).value),
        *(facet_key("tag", tag) for tag in state.tags),
    ]
    return CustomerQueryFields(
        lookup_keys=[*(search_key(prefix) for prefix in prefixes(words)), *facets],
        search_words=words,
        sort_keys={
            SortField.CREATED_AT: number_sort_key(epoch_microseconds(state.created_at), state.id),
            SortField.LAST_NAME: text_sort_key(fold(state.last_name or ""), state.id),
            SortField.LAST_PURCHASE_AT: number_sort_key(epoch_microseconds(purchases.last_purchase_at), state.id),
            SortField.TOTAL_SPENT: number_sort_key(purchases.total_spent_minor, state.id),
        },
    )
