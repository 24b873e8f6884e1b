"""`GET /access-log` (admin): the business's access log, newest first, filtered and paged."""

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.queries.list_access_log import AccessLogPage, ListAccessLog, ListAccessLogHandler
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.dependencies import from_container
from interfaces.http.problems import READ
from interfaces.http.query_moments import moment, moment_parameter
from interfaces.http.resource_controller import ResourceController

Exclusive = Annotated[str | None, moment_parameter("exclusive")]


class AccessLogController(ResourceController):
    path = "/api/v1/businesses/{business_id:str}/access-log"
    tags = ["access log"]
    guards = [tenant_guard]
    dependencies = from_container("list_access_log")

    @get(
        "/",
        responses=READ,
        guards=[requires_role("admin")],
        summary="Who read or exported whose personal data",
        operation_id="listAccessLog",
        description="Newest first. Filters, combined with AND: `customer_id` (entries about that customer), "
        "`actor` (the token's `sub` that read), `after` and `before` (RFC 3339, exclusive). `limit` 1..100 "
        "(default 50); `next_cursor` continues (signed, bound to the business and the filters: another "
        "query's cursor is a `400`). Entries are shipped from each process's spool a few times a second.",
    )
    async def list_access_log(
        self,
        business_id: FromPath[str],
        list_access_log: NamedDependency[ListAccessLogHandler],
        customer_id: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
        actor: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
        after: Exclusive = None,
        before: Exclusive = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
    ) -> AccessLogPage:
        return await list_access_log.execute(
            ListAccessLog(
                business_id=business_id,
                customer_id=customer_id,
                actor=actor,
                after=moment("after", after),
                before=moment("before", before),
                limit=limit,
                cursor=cursor,
            )
        )
