"""The fields the list and search queries find customers by, derived from the state.

`derive_query_fields` is the one place that turns a customer's state into facets, search
terms and sort keys; `application.customer_filters.CustomerFilter.matches` is the same
rule checked on a state, and asks the index for the same keys.

- `facets`: `type:new`, `segment:vip`, `tag:…`, `repeat:true`, `tier:…`, `consent:<purpose>`
  (granted now), `contactable:true|false`, `attr:<key>=<value>`. Few per customer; indexed
  with each of the four sort orders.
- `terms`: the prefixes (1 to MAX_PREFIX_LENGTH characters) of every search word, as
  `q:<prefix>`. Many per customer, so they live in a search document of their own, indexed
  with the two sort orders a search is read in (`created_at`, `last_name`), and rewritten
  only when a name, an email, a phone or the status changes.
- `search_words`: the whole folded words, to check terms longer than the prefixes.
- `sort_keys`: per sort order, one string that orders like the sort and ends with the
  customer id, so that it is unique: a cursor is just the last key seen.

The purchase facets and sorts read the state's metrics, which the aggregate keeps up to
date with every order and payment event; the tier and the repeat rule themselves are
decided in `domain.customer.frequency`.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from application.search_text import fold, prefixes, words_of_email, words_of_phone, words_of_text
from domain.customer.contactability import is_contactable
from domain.customer.metrics import PurchaseMetrics
from domain.customer.state import CustomerState

# Below every character a folded name holds, so "ana" sorts before "anabela".
SORT_KEY_SEPARATOR = "\x01"
# Above every sort key: keys are digits or folded text, then an id.
KEY_CEILING = "\U0010ffff"
_NUMBER_WIDTH = 20
# Attribute values longer than this are hashed in their facet.
_FACET_VALUE_MAX = 64


class SortField(StrEnum):
    CREATED_AT = "created_at"
    LAST_NAME = "last_name"
    LAST_PURCHASE_AT = "last_purchase_at"
    TOTAL_SPENT = "total_spent"


# The sorts a search (terms) is indexed with; other sorts read facets or the plain list.
SEARCH_SORTS = (SortField.CREATED_AT, SortField.LAST_NAME)


def total_spent_minor(metrics: PurchaseMetrics) -> int:
    """What `sort=total_spent` orders by: the customer's largest lifetime value among its
    currencies, in that currency's minor units (0 without purchases).

    Money of different currencies is never added up, so a customer who bought in two
    currencies sorts by the larger of its two lifetime values. A lifetime value below zero
    (refunded more than it bought) counts as 0: it sorts with the customers who spent nothing.
    """
    return max(
        (spend.lifetime_value_minor for spend in metrics.spend.values() if spend.lifetime_value_minor > 0), default=0
    )


@dataclass(frozen=True)
class CustomerQueryFields:
    facets: list[str]
    terms: list[str]
    search_words: list[str]
    sort_keys: dict[SortField, str]


def search_key(term_prefix: str) -> str:
    return f"q:{term_prefix}"


def facet_key(facet: str, value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"{facet}:{value}"


def attribute_value_text(value: object) -> str:
    """An attribute value as a query string writes it: `true`, `12`, `gold`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def attribute_key(key: str, value: object) -> str:
    text = attribute_value_text(value)
    if len(text) > _FACET_VALUE_MAX:
        text = "#" + hashlib.sha256(text.encode()).hexdigest()[:32]
    return facet_key("attr", f"{key}={text}")


def segment_key(segment_id: str) -> str:
    """The facet of a segment's members (kept beside the derived ones by the projection)."""
    return facet_key("seg", segment_id)


def granted_purposes(state: CustomerState) -> set[str]:
    return {purpose for purpose, entry in state.consents.items() if entry.granted}


def number_sort_key(value: int, customer_id: str) -> str:
    return f"{value:0{_NUMBER_WIDTH}d}{SORT_KEY_SEPARATOR}{customer_id}"


def text_sort_key(value: str, customer_id: str) -> str:
    return f"{value}{SORT_KEY_SEPARATOR}{customer_id}"


def epoch_microseconds(moment: datetime | None) -> int:
    # Never purchased counts as the epoch: first in ascending order, last in descending.
    return int(moment.timestamp() * 1_000_000) if moment else 0


def search_words_of(state: CustomerState) -> list[str]:
    return list(
        dict.fromkeys(
            [
                *words_of_text(state.first_name),
                *words_of_text(state.last_name),
                *words_of_email(state.email),
                *words_of_phone(state.phone),
            ]
        )
    )


def sort_keys_of(state: CustomerState) -> dict[SortField, str]:
    metrics = state.metrics
    return {
        SortField.CREATED_AT: number_sort_key(epoch_microseconds(state.created_at), state.id),
        SortField.LAST_NAME: text_sort_key(fold(state.last_name or ""), state.id),
        SortField.LAST_PURCHASE_AT: number_sort_key(epoch_microseconds(metrics.last_purchase_at), state.id),
        SortField.TOTAL_SPENT: number_sort_key(total_spent_minor(metrics), state.id),
    }


def facets_of(state: CustomerState) -> list[str]:
    metrics = state.metrics
    return list(
        dict.fromkeys(
            [
                facet_key("type", state.type.value),
                facet_key("segment", state.segment.value),
                facet_key("repeat", metrics.is_repeat_customer),
                facet_key("tier", metrics.frequency_tier),
                facet_key("contactable", is_contactable(state)),
                *(facet_key("tag", tag) for tag in state.tags),
                *(facet_key("consent", purpose) for purpose in sorted(granted_purposes(state))),
                *(attribute_key(key, value) for key, value in sorted(state.attributes.items())),
            ]
        )
    )


def derive_query_fields(state: CustomerState) -> CustomerQueryFields:
    words = search_words_of(state)
    return CustomerQueryFields(
        facets=facets_of(state),
        terms=[search_key(prefix) for prefix in prefixes(words)],
        search_words=words,
        sort_keys=sort_keys_of(state),
    )
