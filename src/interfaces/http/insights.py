"""`GET /insights`: the business at a glance."""

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.insights.get_insights import GetInsightsHandler, Insights
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.dependencies import from_container
from interfaces.http.problems import READ_WITH_WAIT
from interfaces.http.resource_controller import ResourceController


class InsightsController(ResourceController):
    path = "/api/v1/businesses/{business_id:str}/insights"
    tags = ["insights"]
    guards = [tenant_guard]
    dependencies = from_container("get_insights")

    @get(
        "/",
        responses=READ_WITH_WAIT,
        guards=[requires_role("viewer")],
        summary="The business at a glance",
        operation_id="getInsights",
        description="Counts of the active customers (by type, segment and frequency tier), the repeat rate, new "
        "customers in the last 7 and 30 days, and the lifetime value per currency (total, and average over the "
        "customers who spent in it). Kept by a projection of its own: `as_of_position` is how far it has applied "
        "the business's events, and `min_position` waits for a position as the lists do.",
    )
    async def insights(
        self,
        business_id: FromPath[str],
        get_insights: NamedDependency[GetInsightsHandler],
        min_position: Annotated[
            int | None, QueryParameter(ge=1, le=2**62, description="a command's `X-Position`")
        ] = None,
    ) -> Insights:
        return await get_insights.execute(business_id, min_position)
