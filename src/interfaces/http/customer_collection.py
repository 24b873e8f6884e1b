"""The customers of a business as a collection: register one, list, search, and list the
repeat customers, all lists from the read model. Parse, build a command or query, call its
handler, map the result; no business rule lives here."""

from typing import Annotated, Literal

from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from application.commands.context import CommandContext
from application.commands.register_customer import RegisterCustomer, RegisterCustomerHandler
from application.customer_filters import CONSENT_PURPOSE_PATTERN, CURRENCY_PATTERN, MAX_COUNT, MAX_MONEY, CustomerFilter
from application.queries.list_customers import DEFAULT_SORT, ListCustomers, ListCustomersHandler
from application.queries.reader import Reader
from domain.customer.frequency import FrequencyTier
from domain.customer.profile import CustomerSegment, CustomerStatus, CustomerType
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.command_responses import customer_response
from interfaces.http.dependencies import COMMAND_CONTEXT, READER, from_container
from interfaces.http.problems import COMMAND, READ_WITH_WAIT
from interfaces.http.query_moments import Moment, moment
from interfaces.http.resource_controller import ResourceController
from interfaces.http.schemas import CustomerPageResource, CustomerProfileBody, CustomerResource

CUSTOMERS_PATH = "/api/v1/businesses/{business_id:str}/customers"

SortOrder = Literal[
    "created_at", "-created_at", "last_name", "-last_name",
    "last_purchase_at", "-last_purchase_at", "total_spent", "-total_spent",
]  # fmt: skip

LIST_DESCRIPTION = (
    "`q` matches a case- and accent-insensitive prefix of any word of the name, the email (local part "
    "and domain) or the phone digits (with or without the country code); every word of `q` must match. "
    "Every filter combines with the others (AND). `attr.<key>=<value>` (repeatable, any key matching "
    "`^[a-z][a-z0-9_]{0,39}$`) keeps the customers whose custom attribute equals the value. "
    "Pages follow `next_cursor`, which is opaque, signed, and bound to the business, the filters and the "
    "sort (`400` otherwise). A page reads a bounded range of an index: with filters that no single index "
    "holds together, a page may hold fewer than `limit` customers and still have a `next_cursor`. "
    "`min_position` (from a command's `X-Position` header) waits, about 2 s at most, until the read "
    "model has applied the business's events up to that position: `503` if it has not yet, `422` at "
    "once if the business has no event at that position."
)
ATTRIBUTE_PREFIX = "attr."
Count = Annotated[int | None, QueryParameter(ge=0, le=MAX_COUNT)]
Money = Annotated[int | None, QueryParameter(ge=0, le=MAX_MONEY, description="minor units, in `currency`")]


def customer_filter(
    request: Request,
    q: Annotated[str | None, QueryParameter(max_length=200, description="search text")] = None,
    type: FromQuery[CustomerType | None] = None,
    segment: FromQuery[CustomerSegment | None] = None,
    status: FromQuery[CustomerStatus] = CustomerStatus.ACTIVE,
    tag: Annotated[str | None, QueryParameter(max_length=50)] = None,
    is_repeat_customer: FromQuery[bool | None] = None,
    frequency_tier: FromQuery[FrequencyTier | None] = None,
    currency: Annotated[str | None, QueryParameter(pattern=CURRENCY_PATTERN, description="ISO 4217")] = None,
    min_total_spent: Money = None,
    max_total_spent: Money = None,
    min_purchases: Count = None,
    max_purchases: Count = None,
    last_purchase_before: Moment = None,
    last_purchase_after: Moment = None,
    created_before: Moment = None,
    created_after: Moment = None,
    consent: Annotated[
        list[str] | None,
        QueryParameter(
            description="a purpose currently granted; repeatable",
            max_items=10,
            schema_extra={"items": {"type": "string", "pattern": CONSENT_PURPOSE_PATTERN}},
        ),
    ] = None,
    contactable: FromQuery[bool | None] = None,
) -> CustomerFilter:
    attributes = {
        name.removeprefix(ATTRIBUTE_PREFIX): value
        for name, value in request.query_params.items()
        if name.startswith(ATTRIBUTE_PREFIX)
    }
    return CustomerFilter(
        q=q, type=type, segment=segment, status=status, tag=tag, is_repeat_customer=is_repeat_customer,
        frequency_tier=frequency_tier, currency=currency, min_total_spent=min_total_spent,
        max_total_spent=max_total_spent, min_purchases=min_purchases, max_purchases=max_purchases,
        last_purchase_before=moment("last_purchase_before", last_purchase_before),
        last_purchase_after=moment("last_purchase_after", last_purchase_after),
        created_before=moment("created_before", created_before),
        created_after=moment("created_after", created_after), consent=tuple(consent or ()),
        contactable=contactable, attributes=attributes,
    )  # fmt: skip


def list_query(
    business_id: FromPath[str],
    customer_filter: NamedDependency[CustomerFilter],
    sort: FromQuery[SortOrder] = DEFAULT_SORT,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, QueryParameter(max_length=2000, description="`next_cursor` of the previous page")
    ] = None,
    min_position: Annotated[int | None, QueryParameter(ge=1, le=2**62, description="a command's `X-Position`")] = None,
) -> ListCustomers:
    return ListCustomers(
        business_id=business_id, filter=customer_filter, sort=sort, limit=limit, cursor=cursor,
        min_position=min_position,
    )  # fmt: skip


# On the list routes only: the query parameters are theirs.
LIST_PARAMETERS = {
    "customer_filter": Provide(customer_filter, sync_to_thread=False),
    "list_customers_query": Provide(list_query, sync_to_thread=False),
}


class CustomerCollectionController(ResourceController):
    path = CUSTOMERS_PATH
    tags = ["customers"]
    guards = [tenant_guard]
    dependencies = {
        **COMMAND_CONTEXT,
        **READER,
        **from_container("register_customer", "list_customers"),
    }

    @post(
        "/",
        responses=COMMAND,
        guards=[requires_role("staff")],
        summary="Register a customer",
        operation_id="registerCustomer",
        description="At least one of first_name, last_name, email or phone. `409` with `existing_customer_id` "
        "when the email or phone belongs to an active customer. Honours `Idempotency-Key`.",
    )
    async def register(
        self,
        request: Request,
        business_id: FromPath[str],
        data: JSONBody[CustomerProfileBody],
        context: NamedDependency[CommandContext],
        register_customer: NamedDependency[RegisterCustomerHandler],
    ) -> Response[CustomerResource]:
        result = await register_customer.execute(RegisterCustomer(business_id=business_id, profile=data), context)
        return customer_response(result, 201, f"{request.url.path.rstrip('/')}/{result.customer.id}")

    @get(
        "/",
        responses=READ_WITH_WAIT,
        guards=[requires_role("viewer")],
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
        guards=[requires_role("viewer")],
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
        if not (list_customers_query.filter.q or "").strip():
            raise ValidationException("q is required", extra=[{"key": "q", "message": "the search text is required"}])
        return CustomerPageResource.from_page(await list_customers.execute(list_customers_query, reader))

    @get(
        "/repeat",
        responses=READ_WITH_WAIT,
        guards=[requires_role("viewer")],
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
        repeat = list_customers_query.filter.model_copy(update={"is_repeat_customer": True})
        query = list_customers_query.model_copy(update={"filter": repeat})
        return CustomerPageResource.from_page(await list_customers.execute(query, reader))
