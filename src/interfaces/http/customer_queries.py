"""Customer queries: read one, list, search and repeat customers, all from the read models."""

from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter

from application.projections.customer_query_fields import FrequencyTier
from application.queries.get_customer import GetCustomer, GetCustomerHandler
from application.queries.reader import Reader
from application.queries.list_customers import DEFAULT_SORT, ListCustomers, ListCustomersHandler
from domain.customer.profile import CustomerSegment, CustomerStatus, CustomerType
from interfaces.http.problems import READ_WITH_WAIT
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.customers import BUSINESS_PATH
from interfaces.http.schemas import CustomerPageResource, CustomerResource

SortOrder = Literal[
    "created_at", "-created_at", "last_name", "-last_name",
    "last_purchase_at", "-last_purchase_at", "total_spent", "-total_spent",
]  # fmt: skip

LIST_DESCRIPTION = (
    "`q` matches a case- and accent-insensitive prefix of any word of the name, the email (local part "
    "and domain) or the phone digits (with or without the country code); every word of `q` must match. "
    "Pages follow `next_cursor`, which is opaque and tied to the query's filters and sort. "
    "`min_position` (from a command's `X-Position` header) waits, about 2 s at most, until the read "
    "model has applied every event up to that position: `503` if it has not yet, `422` if no event has it."
)


def list_query(
    business_id: FromPath[str],
    q: Annotated[str | None, QueryParameter(max_length=200, description="search text")] = None,
    type: FromQuery[CustomerType | None] = None,
    segment: FromQuery[CustomerSegment | None] = None,
    status: FromQuery[CustomerStatus] = CustomerStatus.ACTIVE,
    tag: Annotated[str | None, QueryParameter(max_length=50)] = None,
    is_repeat_customer: FromQuery[bool | None] = None,
    frequency_tier: FromQuery[FrequencyTier | None] = None,
    sort: FromQuery[SortOrder] = DEFAULT_SORT,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, QueryParameter(max_length=2000, description="`next_cursor` of the previous page")] = None,
    min_position: Annotated[int | None, QueryParameter(ge=1, le=2**62, description="a command's `X-Position`")] = None,
) -> ListCustomers:
    return ListCustomers(
        business_id=business_id, q=q, type=type, segment=segment, status=status, tag=tag,
        is_repeat_customer=is_repeat_customer, frequency_tier=frequency_tier, sort=sort, limit=limit,
        cursor=cursor, min_position=min_position,
    )  # fmt: skip


# On each handler rather than on the controller: `app.CustomerRoutes` merges this controller
# with the command one, whose class-level guards and dependencies would hide these.
VIEWER = [tenant_guard, requires_role("viewer")]
LIST_PARAMETERS = {"list_customers_query": Provide(list_query, sync_to_thread=False)}


class CustomerQueryController(Controller):
    path = BUSINESS_PATH
    tags = ["customers"]

    @get(
        "/",
        responses=READ_WITH_WAIT,
        guards=VIEWER,
        dependencies=LIST_PARAMETERS,
        summary="List customers",
        operation_id="listCustomers",
        description=LIST_DESCRIPTION,
    )
    async def list_customers(
        self,
        list_customers_query: NamedDependency[ListCustomers],
        list_customers: NamedDependency[ListCustomersHandler],
        reader: NamedDependency[Reader],
    ) -> CustomerPageResource:
        return CustomerPageResource.from_page(await list_customers.execute(list_customers_query, reader))

    @get(
        "/search",
        responses=READ_WITH_WAIT,
        guards=VIEWER,
        dependencies=LIST_PARAMETERS,
        summary="Search customers",
        operation_id="searchCustomers",
        description=LIST_DESCRIPTION,
    )
    async def search_customers(
        self,
        list_customers_query: NamedDependency[ListCustomers],
        list_customers: NamedDependency[ListCustomersHandler],
        reader: NamedDependency[Reader],
    ) -> CustomerPageResource:
        if not (list_customers_query.q or "").strip():
            raise ValidationException("q is required", extra=[{"key": "q", "message": "the search text is required"}])
        return CustomerPageResource.from_page(await list_customers.execute(list_customers_query, reader))

    @get(
        "/repeat",
        responses=READ_WITH_WAIT,
        guards=VIEWER,
        dependencies=LIST_PARAMETERS,
        summary="List repeat customers",
        operation_id="listRepeatCustomers",
        description="Customers with two or more completed purchases; the filters and paging of the list.",
    )
    async def repeat_customers(
        self,
        list_customers_query: NamedDependency[ListCustomers],
        list_customers: NamedDependency[ListCustomersHandler],
        reader: NamedDependency[Reader],
    ) -> CustomerPageResource:
        query = list_customers_query.model_copy(update={"is_repeat_customer": True})
        return CustomerPageResource.from_page(await list_customers.execute(query, reader))

    @get(
        "/{customer_id:str}",
        responses=READ_WITH_WAIT,
        guards=VIEWER,
        summary="Read a customer",
        operation_id="getCustomer",
        description="Served from the cache when warm, else from the read model. `min_version=N` waits (about "
        "2 s at most) until the read model has reached version N, so that a client reads its own write.",
    )
    async def get_customer(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[str],
        get_customer: NamedDependency[GetCustomerHandler],
        reader: NamedDependency[Reader],
        min_version: Annotated[int | None, Parameter(ge=1, le=2**31, required=False)] = None,
    ) -> Response[CustomerResource]:
        state = await get_customer.execute(
            GetCustomer(business_id=business_id, customer_id=customer_id, min_version=min_version), reader
        )
        resource = CustomerResource.from_state(state)
        return Response(content=resource, headers={"ETag": f'"{resource.version}"'})
