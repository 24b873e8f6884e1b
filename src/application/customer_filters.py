"""What a list, a search, a segment or an export asks of a customer: one filter, one rule.

`CustomerFilter` holds every filter of the contract (v1 and v1.1), all combined with AND.
`matches(state)` is the rule; the read model's facets (`customer_query_fields`) are the
same rule, precomputed so that an index can find the candidates:

- `index_keys()`: the facets a matching customer surely has (`type:new`, `q:ana`, ...):
  the list reads one of them through an index and checks the rest with `matches`;
- `key_bounds(sort)`: the range of sort keys that the range filters on the sort's own
  field allow (`created_after` with `sort=created_at`), which narrows the index range.
"""

import functools
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from application.projections.customer_query_fields import (
    KEY_CEILING,
    SortField,
    attribute_key,
    attribute_value_text,
    epoch_microseconds,
    facet_key,
    granted_purposes,
    number_sort_key,
    search_key,
    search_words_of,
    segment_key,
)
from application.search_text import MAX_PREFIX_LENGTH, query_terms
from domain.customer.consents import PURPOSE_PATTERN
from domain.customer.contactability import is_contactable
from domain.customer.frequency import FrequencyTier
from domain.customer.profile import ATTRIBUTE_KEY_PATTERN, CustomerSegment, CustomerStatus, CustomerType
from domain.customer.state import CustomerState

CONSENT_PURPOSE_PATTERN = PURPOSE_PATTERN.pattern
CURRENCY_PATTERN = r"^[A-Z]{3}$"
MAX_MONEY = 2**62
MAX_COUNT = 2**31
_CONSENT_PURPOSE = PURPOSE_PATTERN
_ATTRIBUTE_KEY = re.compile(ATTRIBUTE_KEY_PATTERN)


class CustomerFilter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str | None = Field(default=None, max_length=200)
    type: CustomerType | None = None
    segment: CustomerSegment | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    tag: str | None = Field(default=None, max_length=50)
    is_repeat_customer: bool | None = None
    frequency_tier: FrequencyTier | None = None
    # v1.1
    currency: str | None = Field(default=None, pattern=CURRENCY_PATTERN)
    # Bounded (as the query parameters are), so that a segment's filter fits in BSON's 64-bit integers.
    min_total_spent: int | None = Field(default=None, ge=0, le=MAX_MONEY)
    max_total_spent: int | None = Field(default=None, ge=0, le=MAX_MONEY)
    min_purchases: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    max_purchases: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    last_purchase_before: datetime | None = None
    last_purchase_after: datetime | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    consent: tuple[str, ...] = Field(default=(), max_length=10)
    contactable: bool | None = None
    attributes: dict[str, str] = Field(default_factory=dict, max_length=10)
    # The members of a segment whose membership is kept (its conditions are in the filter too).
    segment_id: str | None = Field(default=None, max_length=64)

    @field_validator("consent")
    @classmethod
    def _purposes(cls, purposes: tuple[str, ...]) -> tuple[str, ...]:
        for purpose in purposes:
            if not _CONSENT_PURPOSE.match(purpose):
                raise ValueError(f"consent purposes match {CONSENT_PURPOSE_PATTERN}")
        return tuple(dict.fromkeys(purposes))

    @field_validator("attributes")
    @classmethod
    def _attribute_keys(cls, attributes: dict[str, str]) -> dict[str, str]:
        for key, value in attributes.items():
            if not _ATTRIBUTE_KEY.match(key):
                raise ValueError(f"attribute keys match {ATTRIBUTE_KEY_PATTERN}")
            if len(value) > 200:
                raise ValueError("attribute values have at most 200 characters")
        return attributes

    @model_validator(mode="after")
    def _currency_with_spend(self) -> "CustomerFilter":
        if (self.min_total_spent is not None or self.max_total_spent is not None) and self.currency is None:
            raise ValueError("currency is required with min_total_spent and max_total_spent")
        return self

    # the rule

    def matches(self, state: CustomerState) -> bool:
        """Whether the customer is one the filter asks for (every condition, AND)."""
        metrics = state.metrics
        checks = (
            state.status == self.status,
            self.type is None or state.type == self.type,
            self.segment is None or state.segment == self.segment,
            self.tag is None or self.tag in state.tags,
            self.is_repeat_customer is None or metrics.is_repeat_customer == self.is_repeat_customer,
            self.frequency_tier is None or metrics.frequency_tier == self.frequency_tier.value,
            self._spend_matches(state),
            self.min_purchases is None or metrics.total_purchases >= self.min_purchases,
            self.max_purchases is None or metrics.total_purchases <= self.max_purchases,
            self.last_purchase_before is None
            or (metrics.last_purchase_at is not None and metrics.last_purchase_at < self.last_purchase_before),
            self.last_purchase_after is None
            or (metrics.last_purchase_at is not None and metrics.last_purchase_at > self.last_purchase_after),
            self.created_before is None or state.created_at < self.created_before,
            self.created_after is None or state.created_at > self.created_after,
            all(purpose in granted_purposes(state) for purpose in self.consent),
            self.contactable is None or is_contactable(state) == self.contactable,
            all(
                key in state.attributes and attribute_value_text(state.attributes[key]) == value
                for key, value in self.attributes.items()
            ),
            self._search_matches(state),
        )
        return all(checks)

    def _spend_matches(self, state: CustomerState) -> bool:
        if self.min_total_spent is None and self.max_total_spent is None:
            return True
        spend = state.metrics.spend.get(self.currency or "")
        value = spend.lifetime_value_minor if spend else 0
        if self.min_total_spent is not None and value < self.min_total_spent:
            return False
        return self.max_total_spent is None or value <= self.max_total_spent

    def _search_matches(self, state: CustomerState) -> bool:
        terms = self.terms
        if not terms:
            return True
        words = search_words_of(state)
        return all(any(word.startswith(term) for word in words) for term in terms)

    # what an index can find

    @functools.cached_property
    def terms(self) -> list[str]:
        # Worked out once: a list page checks the filter against every customer it reads.
        return query_terms(self.q or "")

    def index_keys(self) -> list[str]:
        """Facets every matching customer has, the likely most selective first."""
        keys = [segment_key(self.segment_id)] if self.segment_id else []
        keys += [search_key(term[:MAX_PREFIX_LENGTH]) for term in sorted(self.terms, key=len, reverse=True)]
        keys += [attribute_key(key, value) for key, value in self.attributes.items()]
        if self.tag is not None:
            keys.append(facet_key("tag", self.tag))
        keys += [facet_key("consent", purpose) for purpose in self.consent]
        if self.frequency_tier is not None:
            keys.append(facet_key("tier", self.frequency_tier.value))
        if self.is_repeat_customer is not None:
            keys.append(facet_key("repeat", self.is_repeat_customer))
        if self.segment is not None:
            keys.append(facet_key("segment", self.segment.value))
        if self.type is not None:
            keys.append(facet_key("type", self.type.value))
        if self.contactable is not None:
            keys.append(facet_key("contactable", self.contactable))
        return list(dict.fromkeys(keys))

    def key_bounds(self, sort: SortField) -> tuple[str, str]:
        """The (low, high) sort keys, both exclusive, that the filters on the sort's own field
        allow; every key of a matching customer lies strictly between them."""
        low, high = "", KEY_CEILING
        if sort == SortField.CREATED_AT:
            after, before = self.created_after, self.created_before
        elif sort == SortField.LAST_PURCHASE_AT and (self.last_purchase_after or self.last_purchase_before):
            after, before = self.last_purchase_after, self.last_purchase_before
            # Customers with no purchase (the epoch) never match either.
            low = _after_every_key_of(0)
        else:
            return low, high
        if after is not None:
            low = max(low, _after_every_key_of(epoch_microseconds(after)))
        if before is not None:
            high = number_sort_key(epoch_microseconds(before), "")
        return low, high

    def fingerprint_parts(self) -> dict[str, Any]:
        """What identifies the filter (a cursor is bound to it)."""
        return self.model_dump(mode="json", exclude_none=True)


def _after_every_key_of(value: int) -> str:
    return number_sort_key(value, KEY_CEILING)
