"""Pages of customers, each read through an index over a bounded range of sort keys.

A page reads one index range: `business_id`, `status`, at most one indexed key, and a
range of its sort key:

- no filter that an index holds: `customer_details.list_by_<sort>`;
- a facet (`type:new`, `tag:vip`, `consent:…`, `attr:…`, …): `customer_details.facets_by_<sort>`;
- a search term, sorted by `created_at` or `last_name`: `customer_search.terms_by_<sort>`
  (by another sort, a search reads a facet or the plain list and checks the terms).

Each query reads a range that the fences (`list_fences`) say holds about what the page
still needs. A range of the list itself (plain or facet) brings its customers' documents
along, so a page is one query; a search range brings keys only, and the customers of the
page are then read by id. The first read of a range with no fences reads the whole range
once, keys only; a filter's range (facet or search term) borrows its list's fences
instead, when the list has some, and sizes its spans by the share of them it finds.

Every condition of the filter is checked on their state (`CustomerFilter.matches`): the
index only finds candidates. A request runs at most `MAX_QUERIES` range queries and
examines about its budget of index entries: with filters that an index cannot hold
together (two facets, a range on another field than the sort), a page may hold fewer
customers than `limit` and still give a next cursor, which continues exactly where the
scan stopped.
"""

import asyncio
import math
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from application.customer_filters import CustomerFilter
from application.ports import CustomerListCriteria, CustomerListing, ListedPage, ListPosition
from application.projections.customer_query_fields import KEY_CEILING, SEARCH_SORTS
from domain.customer.state import CustomerState
from infrastructure.mongo.documents import CustomerSearchEntry, CustomerView
from infrastructure.mongo.list_fences import BUCKET, Fences, ListFenceStore
from infrastructure.mongo.read_model_generations import CollectionName, collection_of

MAX_QUERIES = 6
# Documents a page may examine (range entries and customers read by id), as a multiple of
# its size, and at least two buckets' worth.
BUDGET_PER_ITEM = 5
# A range is chosen to hold this much more than the page still needs.
MARGIN = 1.5
# Index entries a fence count may be taken to stand for, at most (fences gone stale as
# their range grew): a scan's spans are sized by what the spans before it found.
MAX_DENSITY = 4.0


@dataclass(frozen=True)
class IndexRange:
    """Where a page's candidates come from: a collection, and its indexed key (if any)."""

    source: str  # "views" or "search"
    field: str | None  # "facets" or "terms"; None for the plain list
    key: str | None


LEARNING_BATCH = 2000
PLAIN_LIST = IndexRange("views", None, None)


def choose_range(criteria: CustomerListCriteria) -> IndexRange:
    """A search term if the sort has a search index, else the first facet the filter asks
    for (the likely most selective), else the plain list."""
    keys = criteria.filter.index_keys()
    terms = [key for key in keys if key.startswith("q:")]
    facets = [key for key in keys if not key.startswith("q:")]
    if terms and criteria.sort in SEARCH_SORTS:
        return IndexRange("search", "terms", terms[0])
    if facets:
        return IndexRange("views", "facets", facets[0])
    return PLAIN_LIST


@dataclass(frozen=True)
class Bound:
    key: str
    inclusive: bool


WHOLE_RANGE = (Bound("", True), Bound(KEY_CEILING, True))


@dataclass(frozen=True)
class Span:
    """One range query: buckets `first..last`; it keeps the keys between `low` and `high`."""

    first: int
    last: int
    low: Bound
    high: Bound
    # Whole buckets (its bounds are their fences, or the ends of the range): only then do
    # its keys say how those buckets are now.
    aligned: bool
    # No fences yet: the query reads the whole range once (and keeps what is in bounds).
    learning: bool = False
    # The entries its buckets held by their fences (the start bucket's share of them).
    counted: float = 0.0

    def query(self, sort_field: str) -> dict[str, Any]:
        low, high = WHOLE_RANGE if self.learning else (self.low, self.high)
        return {sort_field: {"$gte" if low.inclusive else "$gt": low.key,
                             "$lte" if high.inclusive else "$lt": high.key}}  # fmt: skip

    def keeps(self, key: str) -> bool:
        above = key >= self.low.key if self.low.inclusive else key > self.low.key
        below = key <= self.high.key if self.high.inclusive else key < self.high.key
        return above and below


class MongoCustomerListing(CustomerListing):
    def __init__(
        self,
        database: AsyncDatabase,
        fences: ListFenceStore,
        views: str | CollectionName = CustomerView.Settings.name,
        search: str | CollectionName = CustomerSearchEntry.Settings.name,
    ):
        self._views = collection_of(database, views)
        self._search = collection_of(database, search)
        self._fences = fences
        # The ranges whose fences a page of this process is laying now (see `page`).
        self._laying: dict[str, asyncio.Future[None]] = {}
        self.queries = 0  # range queries run, for tests to count

    async def page(self, criteria: CustomerListCriteria) -> ListedPage:
        index = choose_range(criteria)
        fence_id = self.fence_id(criteria, index)
        fences, borrowed = await self._fences_of(criteria, index, fence_id)
        if fences.known:
            return await self._page(criteria, index, fence_id, fences, borrowed)
        # No fences yet: this page reads the whole range once to lay them (at 10,000
        # customers 0.8 s of the one-core server). The pages of the same range asked
        # meanwhile wait for it and read its fences, instead of each reading the range
        # again: eight cold first pages stalled every reader for 6 s.
        laying = self._laying.get(fence_id)
        if laying is not None:
            await asyncio.shield(laying)
            fences, borrowed = await self._fences_of(criteria, index, fence_id)
            return await self._page(criteria, index, fence_id, fences, borrowed)
        laid = self._laying[fence_id] = asyncio.get_running_loop().create_future()
        try:
            return await self._page(criteria, index, fence_id, fences, borrowed)
        finally:
            del self._laying[fence_id]
            laid.set_result(None)

    async def _page(
        self, criteria: CustomerListCriteria, index: IndexRange, fence_id: str, fences: Fences, borrowed: bool
    ) -> ListedPage:
        scan = _Scan(criteria, fences, borrowed)
        views = await self._views()
        source = await self._search() if index.source == "search" else views
        equalities = _equalities(criteria, index)
        sort_field = f"sort.{criteria.sort.value}"
        found: list[tuple[CustomerState, str]] = []
        while len(found) <= criteria.limit and scan.can_go_on():
            span = scan.next_span()
            self.queries += 1
            # A bounded range of the list itself brings its customers along: one query, not
            # two (the range then by id). A search range, or a first read of a whole range,
            # brings keys only.
            whole = index.source == "views" and not span.learning
            keys: list[tuple[str, str]] = []
            known: dict[str, dict[str, Any]] = {}
            # Keys kept as the documents come, in batches: a first read of a range holds its
            # keys, not 16 MB of decoded documents too (peak 14.6 MiB at 20,000 customers; 4.9).
            async for document in source.find(
                {**equalities, **span.query(sort_field)},
                None if whole else {sort_field: 1},
                batch_size=LEARNING_BATCH if span.learning else 0,
            ):
                keys.append((document["_id"], document["sort"][criteria.sort.value]))
                if whole:
                    known[document["_id"]] = document["state"]
            if scan.learn(span, sorted(key for _, key in keys)):
                await self._fences.save(fence_id, scan.fences)
            keys = sorted(
                (pair for pair in keys if span.keeps(pair[1])), key=lambda pair: pair[1], reverse=criteria.descending
            )
            matching, read = await _matching(views, criteria.filter, keys, criteria.limit + 1 - len(found), known)
            found += matching
            scan.passed(span, read, len(keys))
        if len(found) > criteria.limit:
            # Full, and there is more: the next page goes on after this page's last customer.
            page = [state for state, _ in found[: criteria.limit]]
            return ListedPage(page, ListPosition(found[criteria.limit - 1][1]))
        return ListedPage([state for state, _ in found], scan.resume())

    async def _fences_of(self, criteria: CustomerListCriteria, index: IndexRange, fence_id: str) -> tuple[Fences, bool]:
        """The range's fences, and whether they are borrowed: for a facet or a search term
        that has none yet, a copy of the plain list's (same status and sort). Its range is
        a subset of the list's, so those fences cut it too, each count an upper bound. Its
        pages then read bounded spans and lay its own fences as they go, instead of
        reading it whole."""
        fences = await self._fences.load(fence_id)
        if fences.known or index.key is None:
            return fences, False
        return (await self._fences.load(self.fence_id(criteria, PLAIN_LIST))).copy(), True

    @staticmethod
    def fence_id(criteria: CustomerListCriteria, index: IndexRange) -> str:
        parts = (
            criteria.business_id,
            criteria.filter.status.value,
            index.source,
            index.key or "*",
            criteria.sort.value,
        )
        return "|".join(parts)


def _equalities(criteria: CustomerListCriteria, index: IndexRange) -> dict[str, Any]:
    # In the index's order: SecantusDB plans by the order of a filter's fields.
    equalities: dict[str, Any] = {"business_id": criteria.business_id, "status": criteria.filter.status.value}
    if index.field is not None:
        equalities[index.field] = index.key
    return equalities


async def _matching(
    views: AsyncCollection,
    filter_: CustomerFilter,
    keys: list[tuple[str, str]],
    wanted: int,
    known: dict[str, dict[str, Any]],
) -> tuple[list[tuple[CustomerState, str]], int]:
    """The customers of `keys` (id, sort key) that match the filter, in order, up to
    `wanted`, and how many were read by id: the states not `known` already are read a
    chunk at a time."""
    matching: list[tuple[CustomerState, str]] = []
    chunk, read = max(wanted, 8), 0
    for start in range(0, len(keys), chunk):
        batch = keys[start : start + chunk]
        missing = [customer_id for customer_id, _ in batch if customer_id not in known]
        if missing:
            read += len(missing)
            async for document in views.find({"_id": {"$in": missing}}, {"state": 1}):
                known[document["_id"]] = document["state"]
        for customer_id, key in batch:
            document = known.get(customer_id)
            state = CustomerState.model_validate(document) if document is not None else None
            if state is not None and filter_.matches(state):
                matching.append((state, key))
                if len(matching) == wanted:
                    return matching, read
    return matching, read


class _Scan:
    """Where a page's scan is, and which range it reads next."""

    def __init__(self, criteria: CustomerListCriteria, fences: Fences, borrowed: bool = False):
        self._descending = criteria.descending
        self._wanted = int((criteria.limit + 1) * MARGIN)
        self.fences = fences
        low, high = criteria.filter.key_bounds(criteria.sort)
        # Exclusive bounds from a filter; the open ends as the buckets' (so a span from an
        # end is still whole buckets).
        self._low, self._high = Bound(low, low == ""), Bound(high, high == KEY_CEILING)
        self._budget = max(BUDGET_PER_ITEM * criteria.limit, 2 * BUCKET)
        self._examined = 0
        self._queries = 0
        # Index entries per fence count, as the spans so far found: about 1 with the range's
        # own fences, the range's share of the list with borrowed ones.
        self._density = 1.0
        self._kept = self._counted = 0.0
        self._borrowed = borrowed
        self._rescaled_by: Span | None = None
        position = criteria.after
        # Everything on the near side of the position has been read; with no position, a
        # filter on the sort's own field says where its keys begin.
        self._position: Bound | None = Bound(position.key, position.inclusive) if position else None
        if self._position is None and (high if self._descending else low) not in ("", KEY_CEILING):
            self._position = self._high if self._descending else self._low
        self._exhausted = False

    def can_go_on(self) -> bool:
        """Whether another range fits: always one; then while the next bucket, read twice
        (range and by id), fits in the budget left."""
        if self._exhausted or self._queries >= MAX_QUERIES:
            return False
        if self._queries == 0:
            return True
        return 2 * self.fences.counts[self._start_bucket()] * self._density <= self._budget - self._examined

    def next_span(self) -> Span:
        """The buckets from the position on that should hold what the page still needs,
        within the budget left."""
        self._queries += 1
        fences, step = self.fences, (-1 if self._descending else 1)
        start = self._start_bucket()
        end, counted, density = start, fences.counts[start] * self._share_left(start), self._density
        # Each entry of the range may be read by id too: half the budget left for each.
        allowed = (self._budget - self._examined) // 2
        while fences.known and counted * density < self._wanted and 0 <= end + step < fences.buckets:
            if (counted + fences.counts[end + step]) * density > allowed:
                break
            end += step
            counted += fences.counts[end]
        first, last = min(start, end), max(start, end)
        bucket_low, bucket_high = self._bucket_bounds(first, last)
        low, high = bucket_low, bucket_high
        if self._position is not None:
            if self._descending:
                high = _tighter_high(high, self._position)
            else:
                low = _tighter_low(low, self._position)
        low, high = _tighter_low(low, self._low), _tighter_high(high, self._high)
        if not fences.known:
            return Span(0, 0, low, high, aligned=True, learning=True)
        return Span(first, last, low, high, aligned=(low, high) == (bucket_low, bucket_high), counted=counted)

    def _start_bucket(self) -> int:
        fences = self.fences
        if not fences.known:
            return 0
        if self._position is None:
            return fences.buckets - 1 if self._descending else 0
        key = self._position.key
        if self._descending:
            # The bucket holding the keys just below the position.
            return fences.bucket_of(key) if self._position.inclusive else fences.bucket_before(key)
        return fences.bucket_of(key)

    def _share_left(self, start: int) -> float:
        """How much of the start bucket is still to read: all of it from its edge, else
        half (a position inside a bucket says nothing of where)."""
        if self._position is None or not self.fences.known:
            return 1.0
        edge = self.fences.upper(start) if self._descending else self.fences.lower(start)
        # Ascending, the keys from an inclusive edge on; descending, those below an exclusive one.
        at_edge = edge == self._position.key and self._position.inclusive != self._descending
        return 1.0 if at_edge else 0.5

    def _bucket_bounds(self, first: int, last: int) -> tuple[Bound, Bound]:
        if not self.fences.known:
            return WHOLE_RANGE
        lower, upper = self.fences.lower(first), self.fences.upper(last)
        return (
            Bound(lower, True) if lower is not None else Bound("", True),
            Bound(upper, False) if upper is not None else Bound(KEY_CEILING, True),
        )

    def learn(self, span: Span, keys: list[str]) -> bool:
        """What a read of whole buckets says of them; True if the fences changed."""
        self._examined += len(keys)
        rescaled = self._borrowed and self._rescale_borrowed(span, len(keys))
        if not span.aligned:
            return rescaled
        return self.fences.learn(span.first, span.last, keys) or rescaled

    def _rescale_borrowed(self, span: Span, found: int) -> bool:
        """After the first span over borrowed fences: every other bucket's count becomes
        the list's count times the share this span found, so that the fences saved count
        in this range's entries, as the buckets it re-cuts do (a mix of the two units
        would size later spans wrong)."""
        self._borrowed = False
        if span.counted <= 0:
            return False
        share = min(1.0, (found + 1) / span.counted)
        counts = self.fences.counts
        for bucket in range(len(counts)):
            if not (span.aligned and span.first <= bucket <= span.last):  # those are re-cut
                counts[bucket] = math.ceil(counts[bucket] * share)
        # The counts are in this range's units from here on: the density starts again.
        self._rescaled_by = span
        return True

    def passed(self, span: Span, read: int, kept: int) -> None:
        """The span has been read (`kept` entries in bounds, `read` customers by id): the
        position moves to its far edge. What it held against what its fences counted sizes
        the next: wider after a span that held less (borrowed or stale fences), narrower
        after one that held more."""
        self._examined += read
        # Only whole buckets say what their counts are worth: a span from inside its start
        # bucket counted a guess of what was left of it.
        if span.aligned and span is not self._rescaled_by:
            self._kept, self._counted = self._kept + kept, self._counted + span.counted
        if self._counted > 0:
            self._density = min((self._kept + 1) / self._counted, MAX_DENSITY)
        if span.learning:
            self._exhausted = True  # it read the whole range
            return
        if self._descending:
            edge = span.low
            self._exhausted = edge == self._low or edge.key == ""
            self._position = Bound(edge.key, not edge.inclusive)
        else:
            edge = span.high
            self._exhausted = edge == self._high or edge.key == KEY_CEILING
            self._position = Bound(edge.key, not edge.inclusive)

    def resume(self) -> ListPosition | None:
        if self._exhausted or self._position is None:
            return None
        return ListPosition(self._position.key, self._position.inclusive)


def _tighter_low(bound: Bound, other: Bound) -> Bound:
    if other.key > bound.key or (other.key == bound.key and not other.inclusive):
        return other
    return bound


def _tighter_high(bound: Bound, other: Bound) -> Bound:
    if other.key < bound.key or (other.key == bound.key and not other.inclusive):
        return other
    return bound
