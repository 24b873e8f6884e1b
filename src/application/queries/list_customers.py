"""List, search and repeat customers (and a segment's): one page at a time, from the list
read model, with every filter of the contract (`application.customer_filters`)."""

from pydantic import BaseModel, ConfigDict, Field

from application.customer_filters import CustomerFilter
from application.errors import InvalidCursor
from application.page_cursors import PageCursors, query_scope
from application.ports import AccessLog, Clock, CustomerListCriteria, CustomerListing, ListPosition
from application.projections.customer_details import PROJECTION_NAME
from application.projections.customer_query_fields import KEY_CEILING, SortField
from application.queries.read_your_writes import PositionWait
from application.queries.reader import Reader, record_access
from domain.customer.state import CustomerState

DEFAULT_SORT = "-created_at"


class ListCustomers(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    filter: CustomerFilter = CustomerFilter()
    # A sort field, descending when it starts with "-".
    sort: str = DEFAULT_SORT
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None
    # Read-your-writes: wait until the read model has applied the business's log up to here.
    min_position: int | None = None

    def scope(self) -> str:
        """What a cursor of this query is bound to: the tenant, the filters, the sort."""
        return query_scope(self.business_id, self.filter.fingerprint_parts(), self.sort)


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
        positions: PositionWait,
        cursors: PageCursors,
        access_log: AccessLog,
        clock: Clock,
    ):
        self._listing = listing
        self._positions = positions
        self._cursors = cursors
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: ListCustomers, reader: Reader) -> CustomerPage:
        page = await self.page(query)
        await record_access(
            self._access_log,
            reader,
            query.business_id,
            [customer.id for customer in page.items],
            "list",
            self._clock.now(),
        )
        return page

    async def page(self, query: ListCustomers) -> CustomerPage:
        """The page, without recording the access (for callers that record it their way)."""
        sort, descending = parse_sort(query.sort)
        after = self._position_of(query) if query.cursor else None
        if query.min_position is not None:
            await self._positions.until_reached(PROJECTION_NAME, query.business_id, query.min_position)
        listed = await self._listing.page(
            CustomerListCriteria(
                business_id=query.business_id,
                filter=query.filter,
                sort=sort,
                descending=descending,
                after=after,
                limit=query.limit,
            )
        )
        next_cursor = (
            self._cursors.encode({"k": listed.next.key, "i": listed.next.inclusive}, query.scope())
            if listed.next is not None
            else None
        )
        return CustomerPage(items=listed.customers, next_cursor=next_cursor)

    def _position_of(self, query: ListCustomers) -> ListPosition:
        assert query.cursor is not None
        content = self._cursors.decode(query.cursor, query.scope())
        key, inclusive = content.get("k"), content.get("i")
        # Signed by this service, so well-formed; checked all the same.
        if not isinstance(key, str) or not isinstance(inclusive, bool) or len(key) > 400 or key > KEY_CEILING:
            raise InvalidCursor("the cursor is not one this service made")
        return ListPosition(key, inclusive)
