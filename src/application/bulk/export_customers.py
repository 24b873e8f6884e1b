"""Export a business's customers as CSV: every list filter (and a segment), streamed.

The export walks the list read model with the list's own bounded pages
(`CustomerListing.page`, the index and the key range of `GET /customers`), one page in
memory at a time, whatever the number of customers. With `segment_id`, the pages come from
the segment's filter (its members' facet once it is counted), and the other filters are
checked on each customer as well (AND). The export is one entry in the access log,
created before the first row leaves; each page's customers are added to it before the
page's rows leave.
"""

import uuid
from collections.abc import AsyncIterator

from pydantic import BaseModel, ConfigDict, Field

from application.customer_filters import CustomerFilter
from application.ports import AccessLog, AccessRecord, Clock, CustomerListCriteria, CustomerListing, ListPosition
from application.projections.customer_details import PROJECTION_NAME
from application.queries.list_customers import DEFAULT_SORT, parse_sort
from application.queries.read_your_writes import PositionWait
from application.queries.reader import Reader
from application.segments.segment_filter import filter_from_json
from application.segments.segment_queries import SegmentLookup
from domain.customer.state import CustomerState

EXPORT_PAGE_SIZE = 100
EXPORT_ACTION = "export_csv"


class ExportCustomers(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    filter: CustomerFilter = CustomerFilter()
    sort: str = DEFAULT_SORT
    segment_id: str | None = Field(default=None, max_length=64)
    min_position: int | None = None


class CustomerExport:
    """An export whose checks are done (segment found, read model caught up, access logged):
    what is left is reading its pages."""

    def __init__(
        self,
        listing: CustomerListing,
        criteria: CustomerListCriteria,
        also: CustomerFilter | None,
        access_log: AccessLog,
        access: AccessRecord,
    ):
        self._listing = listing
        self._criteria = criteria
        self._also = also
        self._access_log = access_log
        self._access = access
        self._entry_id = f"export:{uuid.uuid4()}"

    async def start(self) -> None:
        """Creates the export's entry in the access log."""
        await self._access_log.record_into(self._entry_id, self._access)

    async def customers(self) -> AsyncIterator[CustomerState]:
        after: ListPosition | None = None
        while True:
            page = await self._listing.page(
                CustomerListCriteria(
                    business_id=self._criteria.business_id,
                    filter=self._criteria.filter,
                    sort=self._criteria.sort,
                    descending=self._criteria.descending,
                    after=after,
                    limit=EXPORT_PAGE_SIZE,
                )
            )
            customers = [customer for customer in page.customers if self._also is None or self._also.matches(customer)]
            if customers:
                ids = tuple(customer.id for customer in customers)
                await self._access_log.record_into(
                    self._entry_id, self._access.model_copy(update={"customer_ids": ids})
                )
            for customer in customers:
                yield customer
            if page.next is None:
                return
            after = page.next


class ExportCustomersHandler:
    def __init__(
        self,
        listing: CustomerListing,
        positions: PositionWait,
        segments: SegmentLookup,
        access_log: AccessLog,
        clock: Clock,
    ):
        self._listing = listing
        self._positions = positions
        self._segments = segments
        self._access_log = access_log
        self._clock = clock

    async def execute(self, query: ExportCustomers, reader: Reader) -> CustomerExport:
        sort, descending = parse_sort(query.sort)
        filter_, also = query.filter, None
        if query.segment_id is not None:
            segment = await self._segments.found(query.business_id, query.segment_id)
            filter_, also = filter_from_json(segment.filter), query.filter
            if segment.counted:
                filter_ = filter_.model_copy(update={"segment_id": segment.id})
        if query.min_position is not None:
            await self._positions.until_reached(PROJECTION_NAME, query.business_id, query.min_position)
        access = AccessRecord(
            at=self._clock.now(),
            actor=reader.actor,
            business_id=query.business_id,
            customer_ids=(),
            action=EXPORT_ACTION,
            correlation_id=reader.correlation_id,
        )
        criteria = CustomerListCriteria(
            business_id=query.business_id,
            filter=filter_,
            sort=sort,
            descending=descending,
            after=None,
            limit=EXPORT_PAGE_SIZE,
        )
        export = CustomerExport(self._listing, criteria, also, self._access_log, access)
        await export.start()
        return export
