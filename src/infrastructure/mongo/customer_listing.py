"""Pages of customers from the `customer_details` collection, each read through an index.

Every read is equalities (`business_id`, `status`, at most one `lookup_keys` value) plus
one range on the page's sort key, matching an index of `CustomerView` exactly. MongoDB
then returns the page straight from the index; SecantusDB (the dev server) reads the
range and sorts it, so on it the range must stay narrow. Time-ordered keys are therefore
read in windows that start one day wide from where the page starts and grow fourfold
until the page is full: a page costs about its own size, not the business's.

The other lookup keys and long search terms are checked on the fetched documents (an
`$all` would take SecantusDB off the index), as is the cursor when the sort key is not
the range (lookups sorted by anything but `created_at`).
"""

from collections.abc import AsyncIterator, Iterator
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from application.ports import Clock, CustomerListCriteria, CustomerListing, ListedCustomer
from application.projections.customer_query_fields import (
    SORT_KEY_SEPARATOR,
    SortField,
    epoch_microseconds,
    number_sort_key,
)
from domain.customer.aggregate import CustomerState
from infrastructure.mongo.documents import CustomerView

TIME_ORDERED = (SortField.CREATED_AT, SortField.LAST_PURCHASE_AT)
FIRST_WINDOW_MICROSECONDS = 24 * 3600 * 1_000_000
WINDOW_GROWTH = 4
# Above every sort key: keys are digits or folded text, then an id.
KEY_CEILING = "\U0010ffff"
_PROJECTION = {"state": 1, "lookup_keys": 1, "search_words": 1, "sort": 1}


class MongoCustomerListing(CustomerListing):
    def __init__(self, database: AsyncDatabase, clock: Clock):
        self._views = database[CustomerView.Settings.name]
        self._clock = clock

    async def find(self, criteria: CustomerListCriteria) -> list[ListedCustomer]:
        found: list[ListedCustomer] = []
        async for document in self._documents(criteria):
            if self._passes_checks(document, criteria):
                found.append(
                    ListedCustomer(
                        state=CustomerState.model_validate(document["state"]),
                        sort_key=document["sort"][criteria.sort.value],
                    )
                )
                if len(found) == criteria.limit:
                    break
        return found

    def reads(self, criteria: CustomerListCriteria) -> Iterator[tuple[dict[str, Any], list[tuple[str, int]]]]:
        """The (filter, sort) of each read a page may take, in order; the first is the usual one."""
        sort_field = f"sort.{criteria.sort.value}"
        equalities: dict[str, Any] = {"business_id": criteria.business_id, "status": criteria.status.value}
        if criteria.required_keys:
            equalities["lookup_keys"] = criteria.required_keys[0]
        order = [(sort_field, -1 if criteria.descending else 1)]
        if not self._cursor_in_range(criteria):
            # The lookup index ends with created_at: the sort key cannot be its range.
            yield equalities, order
            return
        for key_range in self._key_ranges(criteria):
            yield {**equalities, sort_field: key_range}, order

    async def _documents(self, criteria: CustomerListCriteria) -> AsyncIterator[dict[str, Any]]:
        for filter_, order in self.reads(criteria):
            # Batches of one page: MongoDB stops reading where the page ends.
            async for document in self._views.find(filter_, _PROJECTION, sort=order, batch_size=criteria.limit):
                yield document

    @staticmethod
    def _cursor_in_range(criteria: CustomerListCriteria) -> bool:
        return not criteria.required_keys or criteria.sort is SortField.CREATED_AT

    def _key_ranges(self, criteria: CustomerListCriteria) -> Iterator[dict[str, str]]:
        """Disjoint ranges of sort keys that together cover everything after the cursor."""
        after = criteria.after_key
        if criteria.sort not in TIME_ORDERED:
            yield {"$lt": after or KEY_CEILING} if criteria.descending else {"$gt": after or ""}
            return
        now = epoch_microseconds(self._clock.now())
        start = int(after.split(SORT_KEY_SEPARATOR)[0]) if after else (now if criteria.descending else 0)
        width = FIRST_WINDOW_MICROSECONDS
        bound = after
        while True:
            if criteria.descending:
                edge = start - width
                if edge <= 0:
                    yield {"$lt": bound or KEY_CEILING}
                    return
                edge_key = number_sort_key(edge, "")
                yield {"$lt": bound or KEY_CEILING, "$gte": edge_key}
            else:
                edge = start + width
                if edge > now:
                    yield {"$gt": bound or ""}
                    return
                edge_key = number_sort_key(edge, "")
                yield {"$gt": bound or "", "$lt": edge_key}
            # The next window starts where this one ended (the edge key sorts before any
            # real key with that value, so nothing falls between the two).
            bound = edge_key
            width *= WINDOW_GROWTH

    def _passes_checks(self, document: dict[str, Any], criteria: CustomerListCriteria) -> bool:
        keys = document.get("lookup_keys", [])
        if any(key not in keys for key in criteria.required_keys[1:]):
            return False
        words = document.get("search_words", [])
        if any(not any(word.startswith(term) for word in words) for term in criteria.long_terms):
            return False
        if criteria.after_key is not None and not self._cursor_in_range(criteria):
            key = document["sort"][criteria.sort.value]
            return key < criteria.after_key if criteria.descending else key > criteria.after_key
        return True
