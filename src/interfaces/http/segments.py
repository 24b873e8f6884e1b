"""Segments: saved filters of a business's customers, for campaigns. Parse, call the handler,
map the result; no business rule lives here."""

from datetime import datetime
from typing import Annotated, Any

from litestar import Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from application.commands.context import CommandContext
from application.customer_filters import CONSENT_PURPOSE_PATTERN, CustomerFilter
from application.queries.list_customers import DEFAULT_SORT
from application.queries.reader import Reader
from application.segments.define_segment import DefineSegment, DefineSegmentHandler
from application.segments.delete_segment import DeleteSegment, DeleteSegmentHandler
from application.segments.ports import SegmentView
from application.segments.segment_filter import ATTRIBUTE_PREFIX
from application.segments.segment_queries import (
    GetSegmentHandler,
    ListSegmentCustomersHandler,
    ListSegmentsHandler,
    SegmentCustomers,
)
from domain.customer.profile import ATTRIBUTE_KEY_PATTERN, ATTRIBUTE_VALUE_MAX_LENGTH
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.customer_collection import SortOrder
from interfaces.http.dependencies import COMMAND_CONTEXT, READER, from_container
from interfaces.http.problems import COMMAND, NO_CONTENT, READ, READ_WITH_WAIT
from interfaces.http.resource_controller import ResourceController
from interfaces.http.schemas import CustomerPageResource

SEGMENTS_PATH = "/api/v1/businesses/{business_id:str}/segments"
SegmentId = Annotated[str, Parameter(max_length=64)]


def _filter_schema() -> dict[str, Any]:
    """The filter object as `CustomerFilter` checks it: its fields (attributes as `attr.<key>`
    properties), nothing else, and `currency` with a spend range."""
    stated = CustomerFilter.model_json_schema()
    definitions = stated.get("$defs", {})
    properties = {
        name: _inlined(schema, definitions)
        for name, schema in stated["properties"].items()
        if name not in ("attributes", "segment_id")
    }
    properties["consent"] = {
        "type": "array",
        "maxItems": 10,
        "items": {"type": "string", "pattern": CONSENT_PURPOSE_PATTERN},
    }
    currency_required = {"required": ["currency"], "properties": {"currency": {"type": "string"}}}
    attribute_name = "^" + ATTRIBUTE_PREFIX.replace(".", r"\.") + ATTRIBUTE_KEY_PATTERN.removeprefix("^")
    return {
        "properties": properties,
        "patternProperties": {attribute_name: {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX_LENGTH}},
        "additionalProperties": False,
        "maxProperties": len(properties) + 10,
        "dependentSchemas": {bound: currency_required for bound in ("min_total_spent", "max_total_spent")},
    }


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """The schema with pydantic's `$defs` references (the enums) written out in place."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inlined(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inlined(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    return schema


class SegmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    filter: dict[str, Any] = Field(
        default_factory=dict,
        description="Any filter parameter of `GET /customers`, as JSON: `q`, `type`, `segment`, `status`, `tag`, "
        "`is_repeat_customer`, `frequency_tier`, `currency`, `min_total_spent`, `max_total_spent`, "
        "`min_purchases`, `max_purchases`, `last_purchase_before`, `last_purchase_after`, `created_before`, "
        "`created_after`, `consent` (a list), `contactable`, `attr.<key>`. An unknown key or a bad value is a 422.",
        json_schema_extra=_filter_schema(),
    )


class SegmentResource(BaseModel):
    id: str
    name: str
    filter: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_view(cls, segment: SegmentView) -> "SegmentResource":
        return cls(id=segment.id, name=segment.name, filter=segment.filter, created_at=segment.created_at)


class SegmentWithCountResource(SegmentResource):
    count: int = Field(description="The customers matching it now")
    count_complete: bool = Field(
        description="False for a little while after the segment is defined, while its customers are counted"
    )


class SegmentListResource(BaseModel):
    items: list[SegmentResource]


class SegmentController(ResourceController):
    path = SEGMENTS_PATH
    tags = ["segments"]
    guards = [tenant_guard]
    dependencies = {
        **COMMAND_CONTEXT,
        **READER,
        **from_container("define_segment", "delete_segment", "list_segments", "get_segment", "list_segment_customers"),
    }

    @post("/", responses=COMMAND, guards=[requires_role("manager")], summary="Save a segment",
          operation_id="defineSegment", description="`409` when another segment of the business has the name.")  # fmt: skip
    async def define(
        self,
        business_id: FromPath[str],
        data: JSONBody[SegmentBody],
        context: NamedDependency[CommandContext],
        define_segment: NamedDependency[DefineSegmentHandler],
    ) -> Response[SegmentResource]:
        segment = await define_segment.execute(
            DefineSegment(business_id=business_id, name=data.name, filter=data.filter), context
        )
        return Response(SegmentResource.from_view(segment), status_code=201,
                        headers={"Location": f"/api/v1/businesses/{business_id}/segments/{segment.id}"})  # fmt: skip

    @get("/", responses=READ, guards=[requires_role("viewer")], summary="List the segments",
         operation_id="listSegments")  # fmt: skip
    async def list_segments(
        self, business_id: FromPath[str], list_segments: NamedDependency[ListSegmentsHandler]
    ) -> SegmentListResource:
        return SegmentListResource(
            items=[SegmentResource.from_view(s) for s in await list_segments.execute(business_id)]
        )

    @get("/{segment_id:str}", responses=READ, guards=[requires_role("viewer")], summary="A segment and its count",
         operation_id="getSegment")  # fmt: skip
    async def get_segment(
        self,
        business_id: FromPath[str],
        segment_id: FromPath[SegmentId],
        get_segment: NamedDependency[GetSegmentHandler],
    ) -> SegmentWithCountResource:
        found = await get_segment.execute(business_id, segment_id)
        return SegmentWithCountResource(
            **SegmentResource.from_view(found.segment).model_dump(),
            count=found.count,
            count_complete=found.segment.counted,
        )

    @get("/{segment_id:str}/customers", responses=READ_WITH_WAIT, guards=[requires_role("viewer")],
         summary="The customers of a segment", operation_id="listSegmentCustomers",
         description="The customers matching the segment's filter, with the sort and paging of `GET /customers`.")  # fmt: skip
    async def customers(
        self,
        business_id: FromPath[str],
        segment_id: FromPath[SegmentId],
        reader: NamedDependency[Reader],
        list_segment_customers: NamedDependency[ListSegmentCustomersHandler],
        sort: FromQuery[SortOrder] = DEFAULT_SORT,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, QueryParameter(max_length=2000)] = None,
        min_position: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
    ) -> CustomerPageResource:
        query = SegmentCustomers(business_id=business_id, segment_id=segment_id, sort=sort, limit=limit,
                                 cursor=cursor, min_position=min_position)  # fmt: skip
        return CustomerPageResource.from_page(await list_segment_customers.execute(query, reader))

    @delete("/{segment_id:str}", responses={**COMMAND, 204: NO_CONTENT}, guards=[requires_role("manager")],
            summary="Delete a segment", operation_id="deleteSegment", status_code=204)  # fmt: skip
    async def delete_segment(
        self,
        business_id: FromPath[str],
        segment_id: FromPath[SegmentId],
        context: NamedDependency[CommandContext],
        delete_segment: NamedDependency[DeleteSegmentHandler],
    ) -> None:
        await delete_segment.execute(DeleteSegment(business_id=business_id, segment_id=segment_id), context)
