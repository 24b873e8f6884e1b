"""Notes, history, purchases and metrics of one customer, served from read models."""

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter
from pydantic import BaseModel

from application.ports import HistoryEntry
from application.queries.customer_activity import ListHistory, ListHistoryHandler, ListNotes, ListNotesHandler
from application.queries.customer_purchases import GetMetrics, GetMetricsHandler, GetPurchases, GetPurchasesHandler
from application.queries.reader import Reader
from domain.customer.purchases import OrderRecord, PaymentRecord
from interfaces.http.auth import requires_role
from interfaces.http.problems import READ
from interfaces.http.schemas import MetricsResource, NoteResource

Limit = Annotated[int, Parameter(ge=1, le=100)]


class NotesPageResource(BaseModel):
    items: list[NoteResource]
    next_cursor: str | None


class HistoryPageResource(BaseModel):
    items: list[HistoryEntry]
    next_cursor: str | None


class PurchasesResource(BaseModel):
    customer_id: str
    orders: list[OrderRecord]
    payments: list[PaymentRecord]


class CustomerActivityRoutes:
    """Mixed into the customer controller: Litestar wants one controller per path."""

    @get("/{customer_id:str}/notes", responses=READ, guards=[requires_role("viewer")], summary="List notes, newest first", operation_id="listNotes")
    async def list_notes(
        self, business_id: FromPath[str], customer_id: FromPath[str], list_notes: NamedDependency[ListNotesHandler],
        reader: NamedDependency[Reader],
        limit: Limit = 20, cursor: Annotated[str | None, Parameter(max_length=64, pattern=r"^note_[0-9A-Z]{26}$")] = None,
    ) -> NotesPageResource:
        page = await list_notes.execute(
            ListNotes(business_id=business_id, customer_id=customer_id, after_note_id=cursor, limit=limit), reader
        )
        return NotesPageResource(
            items=[NoteResource(**note.model_dump(), customer_id=customer_id) for note in page.notes],
            next_cursor=page.notes[-1].id if page.has_more else None,
        )

    @get("/{customer_id:str}/history", responses=READ, guards=[requires_role("viewer")], summary="The audit trail: every change, who, when, which fields",
         operation_id="listHistory", description="Newest first. Field names only, never their values.")
    async def list_history(
        self, business_id: FromPath[str], customer_id: FromPath[str], list_history: NamedDependency[ListHistoryHandler],
        limit: Limit = 20, cursor: Annotated[str | None, Parameter(pattern=r"^[0-9]{1,10}$")] = None,
    ) -> HistoryPageResource:
        page = await list_history.execute(
            ListHistory(business_id=business_id, customer_id=customer_id,
                        before_version=int(cursor) if cursor else None, limit=limit)
        )
        return HistoryPageResource(
            items=page.entries, next_cursor=str(page.entries[-1].version) if page.has_more else None
        )

    @get("/{customer_id:str}/purchases", responses=READ, guards=[requires_role("viewer")], operation_id="listPurchases",
         summary="Orders and payments of the customer",
         description="Every order the customer took part in (as booker or attendee; `purchaser` marks the one "
         "credited) and every payment it made, with its refunds. Oldest first.")
    async def list_purchases(
        self, business_id: FromPath[str], customer_id: FromPath[str], get_purchases: NamedDependency[GetPurchasesHandler],
        reader: NamedDependency[Reader],
    ) -> PurchasesResource:
        history = await get_purchases.execute(GetPurchases(business_id=business_id, customer_id=customer_id), reader)
        return PurchasesResource(customer_id=customer_id, orders=list(history.orders), payments=list(history.payments))

    @get("/{customer_id:str}/metrics", responses=READ, guards=[requires_role("viewer")], operation_id="getMetrics",
         summary="Purchase metrics of the customer", description="The `metrics` object of the customer resource.")
    async def get_metrics(
        self, business_id: FromPath[str], customer_id: FromPath[str], get_metrics: NamedDependency[GetMetricsHandler],
    ) -> MetricsResource:
        metrics = await get_metrics.execute(GetMetrics(business_id=business_id, customer_id=customer_id))
        return MetricsResource.of(metrics)
