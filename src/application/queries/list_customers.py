"""List, search and repeat customers: one page at a time, from the list read model."""

from pydantic import BaseModel, ConfigDict, Field

from application.errors import PositionNotFound, ProjectionBehind
from application.ports import AccessLog, Checkpoints, Clock, CustomerListCriteria, CustomerListing, EventStore
from application.projections.customer_details import PROJECTION_NAME
from application.projections.customer_query_fields import (
    FrequencyTier,
    SortField,
    facet_key,
    search_key,
)
from application.queries.customer_cursor import decode_cursor, encode_cursor, query_fingerprint
from application.queries.reader import Reader, record_access
from application.queries.read_your_writes import ReadModelWait
from application.search_text import MAX_PREFIX_LENGTH, query_terms
from domain.customer.aggregate import CustomerState
from domain.customer.profile import CustomerSegment, CustomerStatus, CustomerType

DEFAULT_SORT = "-created_at"


class ListCustomers(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    q: str | None = None
    type: CustomerType | None = None
    segment: CustomerSegment | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    tag: str | None = None
    is_repeat_customer: bool | None = None
    frequency_tier: FrequencyTier | None = None
    # A sort field, descending when it starts with "-".
    sort: str = DEFAULT_SORT
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None
    # Read-your-writes: wait until the read model has applied every event up to here.
    min_position: int | None = None

    def required_keys(self) -> tuple[str, ...]:
        """The lookup keys a listed customer must have, the likely most selective first."""
        terms = sorted(query_terms(self.q or ""), key=len, reverse=True)
        keys = [search_key(term[:MAX_PREFIX_LENGTH]) for term in terms]
        if self.tag is not None:
            keys.append(facet_key("tag", self.tag))
        if self.is_repeat_customer is not None:
            keys.append(facet_key("repeat", self.is_repeat_customer))
        if self.frequency_tier is not None:
            keys.append(facet_key("tier", self.frequency_tier.value))
        if self.segment is not None:
            keys.append(facet_key("segment", self.segment.value))
        if self.type is not None:
            keys.append(facet_key("type", self.type.value))
        return tuple(dict.fromkeys(keys))

    def fingerprint(self) -> str:
        return query_fingerprint(self.business_id, self.status.value, self.required_keys(), query_terms(self.q or ""))


class CustomerPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[CustomerState]
    next_cursor: str | None


def parse_sort(sort: str) -> tuple[SortField, bool]:
    """`-last_name` is (LAST_NAME, descending). Raises ValueError for an unknown sort."""
    descending = sort.startswith("-")
    return SortField(sort.removeprefix("-")), descending


class ListCustomersHandler:
    def __init__(
        self,
        listing: CustomerListing,
        checkpoints: Checkpoints,
        event_store: EventStore,
        wait: ReadModelWait,
        access_log: AccessLog,
        clock: Clock,
    ):
        self._listing = listing
        self._checkpoints = checkpoints
        self._event_store = event_store
        self._wait = wait
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: ListCustomers, reader: Reader) -> CustomerPage:
        if query.min_position is not None:
            await self._wait_for_position(query.min_position)
        sort, descending = parse_sort(query.sort)
        fingerprint = query.fingerprint()
        after_key = decode_cursor(query.cursor, query.sort, fingerprint) if query.cursor else None
        terms = query_terms(query.q or "")
        # One more than asked: whether it comes back says if there is a next page.
        found = await self._listing.find(
            CustomerListCriteria(
                business_id=query.business_id,
                status=query.status,
                required_keys=query.required_keys(),
                long_terms=tuple(term for term in terms if len(term) > MAX_PREFIX_LENGTH),
                sort=sort,
                descending=descending,
                after_key=after_key,
                limit=query.limit + 1,
            )
        )
        page = found[: query.limit]
        next_cursor = (
            encode_cursor(query.sort, page[-1].sort_key, fingerprint) if len(found) > query.limit else None
        )
        customers = [listed.state for listed in page]
        await record_access(
            self._access_log, reader, query.business_id, [customer.id for customer in customers], "list", self._clock.now()
        )
        return CustomerPage(items=customers, next_cursor=next_cursor)

    async def _wait_for_position(self, position: int) -> None:
        async def reached() -> bool | None:
            return True if await self._checkpoints.load(PROJECTION_NAME) >= position else None

        if await self._wait.until(reached):
            return
        head = await self._event_store.head_position()
        if head < position:
            raise PositionNotFound(position, head)
        raise ProjectionBehind(position, await self._checkpoints.load(PROJECTION_NAME))
