"""What a customer did and what was done to it: its notes (add and list), its history (the
audit trail), its purchases and their metrics. One controller each; the lists are served
from read models."""

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from pydantic import BaseModel, Field

from application.commands.add_note import AddNote, AddNoteHandler
from application.commands.context import CommandContext
from application.ports import HistoryEntry
from application.queries.customer_activity import ListHistory, ListHistoryHandler, ListNotes, ListNotesHandler
from application.queries.customer_purchases import GetMetrics, GetMetricsHandler, GetPurchases, GetPurchasesHandler
from application.queries.reader import Reader
from domain.customer.purchases import OrderRecord, PaymentRecord
from interfaces.http.auth import Principal, requires_role, tenant_guard
from interfaces.http.command_responses import command_response
from interfaces.http.customers import CUSTOMER_PATH, CustomerId
from interfaces.http.dependencies import COMMAND_CONTEXT, READER, from_container
from interfaces.http.problems import COMMAND, READ
from interfaces.http.resource_controller import ResourceController
from interfaces.http.schemas import MetricsResource, NoteBody, NoteResource

Limit = Annotated[int, Parameter(ge=1, le=100)]


class NotesPageResource(BaseModel):
    items: list[NoteResource]
    next_cursor: str | None


class HistoryEntryResource(HistoryEntry):
    changes: dict[str, dict[str, Any]] = Field(
        description='Per changed field `{"from": ..., "to": ...}` for managers and admins; `{}` (the field '
        "name only) for lower roles. Collections are summarized: `notes` is a count, `purchases` the counts "
        "of orders and payments. An erased customer's personal data reads as null here too."
    )


class HistoryPageResource(BaseModel):
    items: list[HistoryEntryResource]
    next_cursor: str | None


class PurchasesResource(BaseModel):
    """One page of purchases, newest first: up to `limit` orders, with their payments."""

    customer_id: str
    orders: list[OrderRecord]
    payments: list[PaymentRecord]
    next_cursor: str | None = Field(description="Null on the last page.")


class NotesController(ResourceController):
    path = CUSTOMER_PATH
    tags = ["customers"]
    guards = [tenant_guard]
    dependencies = {**COMMAND_CONTEXT, **READER, **from_container("add_note", "list_notes")}

    @post(
        "/notes",
        responses=COMMAND,
        guards=[requires_role("staff")],
        summary="Add a note",
        operation_id="addNote",
        description="The author is the token's user.",
    )
    async def add_note(
        self,
        request: Request,
        business_id: FromPath[str],
        customer_id: FromPath[CustomerId],
        data: JSONBody[NoteBody],
        context: NamedDependency[CommandContext],
        add_note: NamedDependency[AddNoteHandler],
    ) -> Response[NoteResource]:
        result = await add_note.execute(
            AddNote(business_id=business_id, customer_id=customer_id, type=data.type, content=data.content), context
        )
        assert result.note is not None
        note = NoteResource(**result.note.model_dump(), customer_id=customer_id)
        return command_response(result, note, 201, f"{request.url.path}/{result.note.id}")

    @get(
        "/notes",
        responses=READ,
        guards=[requires_role("viewer")],
        summary="List notes, newest first",
        operation_id="listNotes",
    )
    async def list_notes(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[str],
        list_notes: NamedDependency[ListNotesHandler],
        reader: NamedDependency[Reader],
        limit: Limit = 20,
        cursor: Annotated[str | None, Parameter(max_length=4096)] = None,
    ) -> NotesPageResource:
        page = await list_notes.execute(
            ListNotes(business_id=business_id, customer_id=customer_id, cursor=cursor, limit=limit), reader
        )
        return NotesPageResource(
            items=[NoteResource(**note.model_dump(), customer_id=customer_id) for note in page.notes],
            next_cursor=page.next_cursor,
        )


class HistoryController(ResourceController):
    path = CUSTOMER_PATH
    tags = ["customers"]
    guards = [tenant_guard]
    dependencies = {**READER, **from_container("list_history")}

    @get(
        "/history",
        responses=READ,
        guards=[requires_role("viewer")],
        summary="The audit trail: every change, who, when, what",
        operation_id="listHistory",
        description="Newest first. Each entry's `changes` holds `{from, to}` per field for managers and admins "
        "(rebuilt from the event store; the read is logged in the access log), and the field names only for "
        "viewers and staff.",
    )
    async def list_history(
        self,
        request: Request,
        business_id: FromPath[str],
        customer_id: FromPath[str],
        list_history: NamedDependency[ListHistoryHandler],
        reader: NamedDependency[Reader],
        limit: Limit = 20,
        cursor: Annotated[str | None, Parameter(pattern=r"^[0-9]{1,10}$")] = None,
    ) -> HistoryPageResource:
        principal: Principal = request.user
        page = await list_history.execute(
            ListHistory(
                business_id=business_id,
                customer_id=customer_id,
                before_version=int(cursor) if cursor else None,
                limit=limit,
                with_values=principal.has_role("manager"),
            ),
            reader,
        )
        return HistoryPageResource(
            items=[
                HistoryEntryResource(**entry.model_dump(), changes=page.changes.get(entry.version, {}))
                for entry in page.entries
            ],
            next_cursor=str(page.entries[-1].version) if page.has_more else None,
        )


class PurchasesController(ResourceController):
    path = CUSTOMER_PATH
    tags = ["customers"]
    guards = [tenant_guard]
    dependencies = {**READER, **from_container("get_purchases", "get_metrics")}

    @get(
        "/purchases",
        responses=READ,
        guards=[requires_role("viewer")],
        operation_id="listPurchases",
        summary="Orders and payments of the customer, newest first, paged",
        description="The orders the customer took part in (as booker or attendee; `purchaser` marks the one "
        "credited) and the payments it made, with their refunds. Newest first: a page holds up to `limit` "
        "orders (by `placed_at`) with their payments; a payment of no order of the customer shows on the page "
        "whose time span holds it. `next_cursor` (signed, bound to this customer) continues; a cursor made "
        "for another query is a `400`.",
    )
    async def list_purchases(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[str],
        get_purchases: NamedDependency[GetPurchasesHandler],
        reader: NamedDependency[Reader],
        limit: Limit = 20,
        cursor: Annotated[str | None, Parameter(max_length=512)] = None,
    ) -> PurchasesResource:
        page = await get_purchases.execute(
            GetPurchases(business_id=business_id, customer_id=customer_id, limit=limit, cursor=cursor), reader
        )
        return PurchasesResource(
            customer_id=customer_id, orders=page.orders, payments=page.payments, next_cursor=page.next_cursor
        )

    @get(
        "/metrics",
        responses=READ,
        guards=[requires_role("viewer")],
        operation_id="getMetrics",
        summary="Purchase metrics of the customer",
        description="The `metrics` object of the customer resource.",
    )
    async def get_metrics(
        self,
        business_id: FromPath[str],
        customer_id: FromPath[str],
        get_metrics: NamedDependency[GetMetricsHandler],
    ) -> MetricsResource:
        metrics = await get_metrics.execute(GetMetrics(business_id=business_id, customer_id=customer_id))
        return MetricsResource.of(metrics)
